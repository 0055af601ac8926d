package ovsdbmodel

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/ovnrun/ovnrun/internal/daemons"
)

// nbTables is what the tests request: a mix of plain, optional, set and map
// columns, one reference set (ports) and one schema index (LSP name).
var nbTables = map[string][]string{
	"Logical_Switch":      {"name", "other_config", "external_ids", "ports"},
	"Logical_Switch_Port": {"addresses", "type", "tag", "up", "options"},
}

// schemaFiles returns the installed NB schema and, when the shared folder
// beside the repository exists, every OVN NB schema kept there.
func schemaFiles(t *testing.T) []string {
	files := []string{daemons.DefaultNBSchema}
	shared, _ := filepath.Glob("../../../shared/ovn-schemas/*.ovsschema")
	if len(shared) == 0 {
		t.Log("no ../shared/ovn-schemas: testing the installed schema only")
	}
	return append(files, shared...)
}

func connect(t *testing.T, endpoints []string, want map[string][]string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Connect(ctx, endpoints, "OVN_Northbound", want)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	for _, schema := range schemaFiles(t) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(schema))
			start := time.Now()
			db := connect(t, []string{nb.Sock}, nbTables)
			t.Logf("schema %s: connected in %v", db.SchemaVersion(), time.Since(start))
			if db.SchemaVersion() != nb.SchemaVersion {
				t.Errorf("SchemaVersion = %q, server's is %q", db.SchemaVersion(), nb.SchemaVersion)
			}
			if m := db.Missing(); len(m) > 0 {
				t.Errorf("Missing = %v, want none", m)
			}
			// The index column comes along although not requested.
			if got := db.Table("Logical_Switch_Port").Columns; !strings.Contains(strings.Join(got, ","), "name") {
				t.Errorf("LSP columns %v lack the index column name", got)
			}
			insertSwitchWithPort(t, db)

			// The server agrees, not just our cache.
			out, err := nb.NBCtl("get", "Logical_Switch", "sw0", "other_config:subnet")
			if err != nil || strings.TrimSpace(out) != `"10.0.0.0/24"` {
				t.Errorf("ovn-nbctl other_config:subnet = %q, %v", out, err)
			}
			out, err = nb.NBCtl("lsp-get-addresses", "sw0-p1")
			if err != nil || strings.TrimSpace(out) != "00:00:00:00:00:01 10.0.0.1" {
				t.Errorf("ovn-nbctl lsp-get-addresses = %q, %v", out, err)
			}
		})
	}
}

// insertSwitchWithPort creates a switch and its port in one transaction, the
// switch referring to the port by named UUID, and reads both from the cache.
func insertSwitchWithPort(t *testing.T, db *DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lsp := mustRow(t, db, "Logical_Switch_Port", map[string]any{
		"_uuid": "lsp_p1", "name": "sw0-p1", "addresses": []string{"00:00:00:00:00:01 10.0.0.1"}, "tag": 7,
	})
	ls := mustRow(t, db, "Logical_Switch", map[string]any{
		"_uuid": "ls_sw0", "name": "sw0", "ports": []string{"lsp_p1"},
		"other_config": map[string]string{"subnet": "10.0.0.0/24"},
	})
	// libovsdb's Create takes rows of one table per call.
	var ops []ovsdb.Operation
	for _, row := range []model.Model{lsp, ls} {
		op, err := db.Client().Create(row)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op...)
	}
	res, err := db.Client().Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		t.Fatal(err)
	}

	// The cache fills asynchronously after Transact returns.
	var switches, ports []model.Model
	waitFor(t, "rows in the cache", func() bool {
		switches, _ = db.List(ctx, "Logical_Switch")
		ports, _ = db.List(ctx, "Logical_Switch_Port")
		return len(switches) == 1 && len(ports) == 1
	})
	portUUID := res[0].UUID.GoUUID
	wantLS := map[string]any{
		"name": "sw0", "ports": []string{portUUID},
		"other_config": map[string]string{"subnet": "10.0.0.0/24"},
	}
	checkRow(t, switches[0], wantLS)
	tag := 7
	checkRow(t, ports[0], map[string]any{"_uuid": portUUID, "name": "sw0-p1", "tag": &tag, "up": (*bool)(nil)})
}

func mustRow(t *testing.T, db *DB, table string, cols map[string]any) model.Model {
	t.Helper()
	row, err := db.NewRow(table)
	if err != nil {
		t.Fatal(err)
	}
	for c, v := range cols {
		if err := Set(row, c, v); err != nil {
			t.Fatal(err)
		}
	}
	return row
}

func checkRow(t *testing.T, row model.Model, want map[string]any) {
	t.Helper()
	for c, w := range want {
		got, err := Get(row, c)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s.%s = %#v, want %#v", TableName(row), c, got, w)
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestMissingInOlderSchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	old := "../../../shared/ovn-schemas/ovn-nb-v22.03.0.ovsschema"
	if _, err := os.Stat(old); err != nil {
		t.Skip("no OVN 22.03 schema in ../shared/ovn-schemas")
	}
	nb := daemons.StartNB(t, daemons.WithSchema(old))
	db := connect(t, []string{nb.Sock}, map[string][]string{
		"Logical_Switch_Port": {"name", "mirror_rules"}, // mirror_rules came in 22.12
		"Mirror":              {"name"},
	})

	var got []string
	for _, m := range db.Missing() {
		got = append(got, m.Error())
	}
	want := []string{
		"column mirror_rules of table Logical_Switch_Port is not in the server's OVN_Northbound schema version 6.1.0",
		"table Mirror is not in the server's OVN_Northbound schema version 6.1.0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Missing:\n got %q\nwant %q", got, want)
	}

	err := db.Check("Logical_Switch_Port", "name", "mirror_rules", "peer")
	var me *MissingError
	if !errors.As(err, &me) || me.Column != "mirror_rules" || me.Version != "6.1.0" {
		t.Errorf("Check = %v, want a *MissingError for mirror_rules at 6.1.0", err)
	}
	if !strings.Contains(err.Error(), "column peer of table Logical_Switch_Port") {
		t.Errorf("Check = %v, want peer reported too", err)
	}
	if err := db.Check("Logical_Switch", "copp"); err != nil {
		t.Errorf("Check(existing column) = %v", err)
	}
	// The rest of the table is usable: the missing column is just absent.
	if _, err := Ptr(mustRow(t, db, "Logical_Switch_Port", nil), "mirror_rules"); err == nil {
		t.Error("mirror_rules is in the model of a 6.1.0 server")
	}
}

func TestSameColumnsDistinctTables(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	if _, err := nb.NBCtl("ls-add", "sw", "--", "lr-add", "lr"); err != nil {
		t.Fatal(err)
	}
	// Identical column sets would give identical StructOf types, and
	// libovsdb tells tables apart by type; _uuid-only tables too.
	db := connect(t, []string{nb.Sock}, map[string][]string{
		"Logical_Switch": {"name"}, "Logical_Router": {"name"}, "NB_Global": nil,
	})
	ctx := context.Background()
	for table, name := range map[string]string{"Logical_Switch": "sw", "Logical_Router": "lr"} {
		rows, err := db.List(ctx, table)
		if err != nil || len(rows) != 1 {
			t.Fatalf("List(%s) = %v, %v", table, rows, err)
		}
		checkRow(t, rows[0], map[string]any{"name": name})
		if TableName(rows[0]) != table {
			t.Errorf("TableName = %q, want %q", TableName(rows[0]), table)
		}
	}
	if _, err := db.List(ctx, "NB_Global"); err != nil {
		t.Error(err)
	}
}

func TestClusterFailover(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovs-appctl")
	cl := daemons.StartNBCluster(t, 3)
	db := connect(t, cl.TCPEndpoints(), map[string][]string{"Logical_Switch": {"name"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	add := func(name string) {
		t.Helper()
		ops, err := db.Client().Create(mustRow(t, db, "Logical_Switch", map[string]any{"name": name}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.Client().Transact(ctx, ops...)
		if err == nil {
			_, err = ovsdb.CheckOperationResults(res, ops)
		}
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	add("before")
	if _, err := cl.KillLeader(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The transaction waits for the reconnect to the new leader. It may also
	// fail, if it was sent just as the old leader died: then it is sent
	// again, unless it landed after all (no duplicate is allowed below).
	for {
		err := tryAdd(ctx, db, "after")
		if err == nil {
			break
		}
		t.Logf("create after: %v; sending it again unless it landed", err)
		if landed(t, cl, "after") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("create after: %v", err)
		}
	}
	t.Logf("transaction after leader kill took %v", time.Since(start))
	if !landed(t, cl, "after") || landed(t, cl, "never") {
		t.Error("the cluster does not hold exactly the switch sent")
	}
	waitFor(t, "both switches cached", func() bool {
		rows, _ := db.List(ctx, "Logical_Switch")
		return len(rows) == 2
	})
}

// TestSetGet needs no server: it builds a model from a schema snippet.
func TestSetGet(t *testing.T) {
	var ts ovsdb.TableSchema
	err := json.Unmarshal([]byte(`{"columns": {
		"name": {"type": "string"},
		"tag": {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}},
		"addresses": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
		"options": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
		"enabled": {"type": {"key": "boolean", "min": 0, "max": 1}}
	}, "indexes": [["name"]]}`), &ts)
	if err != nil {
		t.Fatal(err)
	}
	table, missing := buildTable("T", &ts, []string{"tag", "addresses", "options", "enabled", "nope"})
	if !reflect.DeepEqual(missing, []string{"nope"}) {
		t.Errorf("missing = %v", missing)
	}
	if want := []string{"_uuid", "name", "tag", "addresses", "options", "enabled"}; !reflect.DeepEqual(table.Columns, want) {
		t.Errorf("Columns = %v, want %v", table.Columns, want)
	}
	row := table.New()
	for _, tc := range []struct {
		column string
		set    any
		want   any
	}{
		{"name", "a", "a"},
		{"tag", 5, ptr(5)}, // T accepted for an optional *T
		{"tag", ptr(6), ptr(6)},
		{"tag", nil, (*int)(nil)}, // nil clears
		{"addresses", []string{"x"}, []string{"x"}},
		{"options", map[string]string{"k": "v"}, map[string]string{"k": "v"}},
		{"enabled", false, ptr(false)},
	} {
		if err := Set(row, tc.column, tc.set); err != nil {
			t.Errorf("Set(%s, %#v): %v", tc.column, tc.set, err)
			continue
		}
		if got, _ := Get(row, tc.column); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Set(%s, %#v): Get = %#v, want %#v", tc.column, tc.set, got, tc.want)
		}
	}
	if err := Set(row, "tag", "seven"); err == nil || !strings.Contains(err.Error(), "column tag of table T is *int") {
		t.Errorf("Set(tag, string) = %v", err)
	}
	if _, err := Get(row, "nope"); err == nil {
		t.Error("Get of an unmodelled column succeeded")
	}
	if got := reflect.TypeOf(row).Elem().Field(3).Name; got != "Tag" {
		t.Errorf("field name of tag = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestForeignUpdates: a change made by another client to modelled and
// unmodelled columns of a row in one transaction reaches the cache (with
// MonitorAll and a narrower model it would be dropped for the whole row).
func TestForeignUpdates(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	db := connect(t, []string{nb.Sock}, map[string][]string{"Logical_Switch": {"name"}})
	if _, err := nb.NBCtl("ls-add", "sw", "--", "set", "Logical_Switch", "sw", "external_ids:owner=other"); err != nil {
		t.Fatal(err)
	}
	if _, err := nb.NBCtl("set", "Logical_Switch", "sw", "name=renamed", "other_config:x=y"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rename in the cache", func() bool {
		rows, _ := db.List(context.Background(), "Logical_Switch")
		if len(rows) != 1 {
			return false
		}
		name, _ := Get(rows[0], "name")
		return name == "renamed"
	})
}

func tryAdd(ctx context.Context, db *DB, name string) error {
	row := db.Table("Logical_Switch").New()
	if err := Set(row, "name", name); err != nil {
		return err
	}
	ops, err := db.Client().Create(row)
	if err != nil {
		return err
	}
	res, err := db.Client().Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	return err
}

// landed reports whether the cluster holds a switch named name, asking the
// server rather than a cache that may not have caught up. A transaction
// the dead leader sent its followers may still be committed by the new
// leader, with its first entry of its own: so one is committed first.
func landed(t *testing.T, cl *daemons.NBCluster, name string) bool {
	t.Helper()
	if out, err := cl.NBCtl("--may-exist", "lr-add", "failover-barrier"); err != nil {
		t.Fatalf("a transaction of the new leader's: %v %s", err, out)
	}
	out, err := cl.NBCtl("--bare", "--columns=name", "find", "Logical_Switch", "name="+name)
	if err != nil {
		t.Fatalf("reading the cluster: %v %s", err, out)
	}
	return strings.TrimSpace(out) == name
}
