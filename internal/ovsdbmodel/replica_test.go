package ovsdbmodel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// testTable has a column of every kind of type the parser handles.
const testTable = `{"columns": {
	"s": {"type": "string"},
	"i": {"type": "integer"},
	"r": {"type": "real"},
	"b": {"type": "boolean"},
	"u": {"type": "uuid"},
	"e": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b"]]}}},
	"os": {"type": {"key": "string", "min": 0, "max": 1}},
	"oi": {"type": {"key": "integer", "min": 0, "max": 1}},
	"ob": {"type": {"key": "boolean", "min": 0, "max": 1}},
	"ou": {"type": {"key": "uuid", "min": 0, "max": 1}},
	"one": {"type": {"key": "string", "min": 1, "max": 1}},
	"ss": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
	"si": {"type": {"key": "integer", "min": 0, "max": "unlimited"}},
	"su": {"type": {"key": "uuid", "min": 0, "max": "unlimited"}},
	"ms": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
	"mi": {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}},
	"mk": {"type": {"key": "integer", "value": "string", "min": 0, "max": "unlimited"}}
}}`

func testColumns(t testing.TB) *ovsdb.TableSchema {
	t.Helper()
	var ts ovsdb.TableSchema
	if err := json.Unmarshal([]byte(testTable), &ts); err != nil {
		t.Fatal(err)
	}
	return &ts
}

// libovsdbNative is what libovsdb's cache holds for a column's JSON value:
// its own decoding of OVSDB notation, then OvsToNative.
func libovsdbNative(t *testing.T, cs *ovsdb.ColumnSchema, value string) any {
	t.Helper()
	var row ovsdb.Row
	if err := json.Unmarshal([]byte(`{"c":`+value+`}`), &row); err != nil {
		t.Fatalf("libovsdb cannot decode %s: %v", value, err)
	}
	v, err := ovsdb.OvsToNative(cs, row["c"])
	if err != nil {
		t.Fatalf("libovsdb cannot convert %s: %v", value, err)
	}
	return v
}

// TestParseLikeLibovsdb: every value parses to exactly what libovsdb's cache
// would hold, type included.
func TestParseLikeLibovsdb(t *testing.T) {
	ts := testColumns(t)
	cases := map[string][]string{
		"s":   {`""`, `"x"`, `"a \"quoted\" {brace} [and] \\ back\u00e9\n"`, `"ünïcode ✓"`},
		"i":   {`0`, `-5`, `4095`, `9007199254740992`},
		"r":   {`0`, `1.5`, `-2e3`},
		"b":   {`true`, `false`},
		"u":   {`["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]`},
		"e":   {`"a"`, `"b"`},
		"os":  {`["set",[]]`, `"x"`, `["set",["y"]]`},
		"oi":  {`["set",[]]`, `7`, `["set",[8]]`},
		"ob":  {`["set",[]]`, `false`, `true`},
		"ou":  {`["set",[]]`, `["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]`},
		"one": {`"z"`},
		"ss":  {`["set",[]]`, `"single"`, `["set",["a","b c","d"]]`},
		"si":  {`["set",[]]`, `3`, `["set",[1,2,3]]`},
		"su":  {`["set",[]]`, `["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]`, `["set",[["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"],["uuid","1f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"]]]`},
		"ms":  {`["map",[]]`, `["map",[["k","v"]]]`, `["map",[["a","1"],["b","x=y,z"],["",""]]]`},
		"mi":  {`["map",[["a",1],["b",-2]]]`},
		"mk":  {`["map",[[1,"a"],[2,"b"]]]`},
	}
	column := func(col string) *replicaColumn { return newReplicaTable(ts, []string{col}).byName[col] }
	for col, values := range cases {
		cs := ts.Column(col)
		for _, value := range values {
			var indented bytes.Buffer
			json.Indent(&indented, []byte(value), " ", "\t")
			for _, spaced := range []string{value, " " + indented.String() + "\n"} {
				p := &parser{data: []byte(spaced)}
				got, err := p.column(column(col))
				if err == nil {
					p.space()
					if p.pos != len(p.data) {
						err = fmt.Errorf("stopped at byte %d", p.pos)
					}
				}
				if err != nil {
					t.Errorf("%s: parse %s: %v", col, spaced, err)
					continue
				}
				// Empty sets and maps are nil here, empty in libovsdb.
				if want := libovsdbNative(t, cs, value); !reflect.DeepEqual(emptyIsNil(got), emptyIsNil(want)) || reflect.TypeOf(got) != reflect.TypeOf(want) {
					t.Errorf("%s: parse %s = %#v, libovsdb has %#v", col, spaced, got, want)
				}
			}
		}
	}
	for col, bad := range map[string]string{"s": `5`, "i": `1.5`, "b": `"true"`, "u": `"not-a-uuid"`, "os": `["set",["a","b"]]`, "ms": `["set",[]]`, "ss": `["set",[1]]`} {
		p := &parser{data: []byte(bad)}
		if v, err := p.column(column(col)); err == nil {
			t.Errorf("%s: parse %s = %#v, want an error", col, bad, v)
		}
	}
}

func emptyIsNil(v any) any {
	rv := reflect.ValueOf(v)
	if (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
		return reflect.Zero(rv.Type()).Interface()
	}
	return v
}

// TestFramer splits a stream delivered a byte at a time, with strings
// holding brackets and escaped quotes, and spaces between messages.
func TestFramer(t *testing.T) {
	msgs := []string{
		`{"id":1,"result":{"T":{"u":{"initial":{"s":"} ] \" {"}}}},"error":null}`,
		`[1,2,{"a":[]}]`,
		`{"method":"echo","params":["x\\"],"id":"echo"}`,
	}
	stream := " " + strings.Join(msgs, "\n  ") + "\n"
	for name, r := range map[string]*bufio.Reader{
		"whole":    bufio.NewReader(strings.NewReader(stream)),
		"one byte": bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(stream)), 16),
	} {
		f := &framer{r: r}
		for _, want := range msgs {
			got, err := f.next()
			if err != nil || string(got) != want {
				t.Errorf("%s: next = %q, %v; want %q", name, got, err, want)
			}
		}
		if got, err := f.next(); err == nil {
			t.Errorf("%s: next after the last message = %q", name, got)
		}
	}
}

// TestApplyUpdates checks initial, insert, modify (new value, set and map
// differences) and delete, and that states and rows are never modified.
func TestApplyUpdates(t *testing.T) {
	ts := testColumns(t)
	schema := &ovsdb.DatabaseSchema{Name: "D", Tables: map[string]ovsdb.TableSchema{"T": *ts}}
	r := &Replica{tables: map[string]*replicaTable{}}
	r.tables["T"] = newReplicaTable(schema.Table("T"), []string{"s", "os", "ob", "ss", "ms", "i"})
	r.state = &ReplicaState{Tables: map[string]map[string]*Row{"T": {}}}
	apply := func(u string) *ReplicaState {
		t.Helper()
		if err := r.apply([]byte(u)); err != nil {
			t.Fatalf("apply %s: %v", u, err)
		}
		return r.state
	}
	s0 := apply(`{"T":{"a":{"initial":{"s":"x","ss":["set",["1","2","3"]],"ms":["map",[["k","v"],["l","w"]]]}},"b":{"initial":{}}},"Other":{"c":{"initial":{}}}}`)
	a0, b0 := s0.Tables["T"]["a"], s0.Tables["T"]["b"]
	want := map[string]any{"s": "x", "os": (*string)(nil), "ob": (*bool)(nil), "ss": []string{"1", "2", "3"},
		"ms": map[string]string{"k": "v", "l": "w"}, "i": 0}
	if !reflect.DeepEqual(a0.Cols, want) {
		t.Errorf("initial row a = %#v, want %#v", a0.Cols, want)
	}
	if got := b0.Cols["ss"]; got == nil || reflect.TypeOf(got) != reflect.TypeFor[[]string]() {
		t.Errorf("default of a set column = %#v, want a typed nil []string", got)
	}
	if _, ok := s0.Tables["Other"]; ok {
		t.Error("a table that was not asked for is replicated")
	}
	s1 := apply(`{"T":{"a":{"modify":{"s":"y","os":"o","ob":false,"ss":["set",["2","4"]],"ms":["map",[["k","v"],["l","W"],["m","n"]]]}},"b":{"delete":null}}}`)
	want = map[string]any{"s": "y", "os": ptr("o"), "ob": ptr(false), "ss": []string{"1", "3", "4"},
		"ms": map[string]string{"l": "W", "m": "n"}, "i": 0}
	if got := s1.Tables["T"]["a"].Cols; !reflect.DeepEqual(got, want) {
		t.Errorf("after modify, a = %#v, want %#v", got, want)
	}
	if _, ok := s1.Tables["T"]["b"]; ok {
		t.Error("b is still there after its delete")
	}
	s2 := apply(`{"T":{"a":{"modify":{"os":["set",[]],"ss":["set",["1","3","4"]],"ms":["map",[["l","W"],["m","n"]]]}},"c":{"insert":{"i":3}}}}`)
	want = map[string]any{"s": "y", "os": (*string)(nil), "ob": ptr(false), "ss": []string(nil), "ms": map[string]string(nil), "i": 0}
	if got := s2.Tables["T"]["a"].Cols; !reflect.DeepEqual(got, want) {
		t.Errorf("after emptying, a = %#v, want %#v", got, want)
	}
	if got := s2.Tables["T"]["c"].Cols["i"]; got != 3 {
		t.Errorf("inserted c has i = %#v", got)
	}
	// Older states are untouched.
	if s0.Tables["T"]["a"] != a0 || a0.Cols["s"] != "x" || len(s0.Tables["T"]) != 2 || len(s1.Tables["T"]) != 1 {
		t.Error("an update modified an earlier state")
	}
	if err := r.apply([]byte(`{"T":{"zz":{"modify":{"s":"q"}}}}`)); err == nil {
		t.Error("a modify of an unknown row was accepted")
	}
}

// TestReplicaLikeLibovsdbCache makes changes with ovn-nbctl and checks that a
// replica ends up holding what libovsdb's cache holds, column for column.
func TestReplicaLikeLibovsdbCache(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	want := map[string][]string{
		"Logical_Switch":      {"name", "other_config", "external_ids", "ports"},
		"Logical_Switch_Port": {"name", "addresses", "type", "tag_request", "enabled", "options", "dynamic_addresses", "port_security", "dhcpv4_options"},
		"DHCP_Options":        {"cidr", "options"},
	}
	ref := connect(t, []string{nb.Sock}, want)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, []string{nb.Sock}, "OVN_Northbound")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	schema := db.Schema()
	rep, err := Replicate(ctx, db.Endpoint(), &schema, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rep.Close)
	for _, cmd := range [][]string{
		{"ls-add", "sw0", "--", "set", "Logical_Switch", "sw0", "other_config:subnet=10.0.0.0/24", "external_ids:a=b"},
		{"lsp-add", "sw0", "p0", "--", "lsp-set-addresses", "p0", "00:00:00:00:00:01 10.0.0.5", "router"},
		{"lsp-add", "sw0", "p1", "--", "lsp-set-port-security", "p1", "00:00:00:00:00:02"},
		{"set", "Logical_Switch_Port", "p0", "tag_request=5", "enabled=true", "options:x=1", "options:y=2", `dynamic_addresses="00:00:00:00:00:09"`},
		{"dhcp-options-create", "10.0.0.0/24"},
		{"set", "Logical_Switch_Port", "p0", "tag_request=6", "enabled=false", "options:x=3", "addresses=router,unknown"},
		{"remove", "Logical_Switch_Port", "p0", "options", "y", "--", "clear", "Logical_Switch_Port", "p0", "tag_request", "dynamic_addresses"},
		{"ls-add", "sw1", "--", "lsp-add", "sw1", "q0", "--", "ls-del", "sw0"},
		{"set", "Logical_Switch", "sw1", "name=renamed", "other_config:x=y"},
	} {
		if _, err := nb.NBCtl(cmd...); err != nil {
			t.Fatal(err)
		}
		var last string
		ok := waitUntil(5*time.Second, func() bool {
			last = compareWithCache(t, ctx, ref, rep, want)
			return last == ""
		})
		if !ok {
			t.Fatalf("after %v the replica differs from libovsdb's cache: %s", cmd, last)
		}
	}
	if err := rep.Err(); err != nil {
		t.Errorf("Err of a live replica = %v", err)
	}
	rep.Close()
	if rep.Err() == nil {
		t.Error("Err after Close is nil")
	}
}

// compareWithCache returns "" when rep holds exactly the rows and values of
// libovsdb's cache in db, else the first difference.
func compareWithCache(t *testing.T, ctx context.Context, db *DB, rep *Replica, want map[string][]string) string {
	st := rep.State()
	for table, columns := range want {
		rows, err := db.List(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(st.Tables[table]) {
			return fmt.Sprintf("%s: %d rows in the cache, %d in the replica", table, len(rows), len(st.Tables[table]))
		}
		for _, row := range rows {
			r := st.Tables[table][UUID(row)]
			if r == nil {
				return fmt.Sprintf("%s row %s is not in the replica", table, UUID(row))
			}
			for _, c := range columns {
				v, err := Get(row, c)
				if err != nil {
					t.Fatal(err)
				}
				got := r.Cols[c]
				if ss, ok := got.([]string); ok { // set order is the server's
					got = slices.Sorted(slices.Values(ss))
					if len(ss) == 0 {
						got = ss
					}
					if vs, _ := v.([]string); len(vs) > 0 {
						v = slices.Sorted(slices.Values(vs))
					}
				}
				if !reflect.DeepEqual(got, v) {
					return fmt.Sprintf("%s row %s column %s: replica %#v, cache %#v", table, r.UUID, c, got, v)
				}
			}
		}
	}
	return ""
}

func waitUntil(timeout time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(5 * time.Millisecond) {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// TestReplicaEverySchema replicates the NB tables ovnrun uses from each NB
// schema; requested columns an older schema lacks are left out.
func TestReplicaEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	want := map[string][]string{
		"NB_Global":           {"nb_cfg", "sb_cfg", "hv_cfg"},
		"Logical_Switch":      {"name", "other_config", "external_ids", "ports"},
		"Logical_Switch_Port": {"name", "addresses", "tag_request", "dynamic_addresses", "no_such_column"},
	}
	for _, file := range schemaFiles(t) {
		t.Run(file[strings.LastIndex(file, "/")+1:], func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(file))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			db, err := Open(ctx, []string{nb.Sock}, "OVN_Northbound")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.SchemaVersion() != nb.SchemaVersion {
				t.Errorf("SchemaVersion = %q, server's is %q", db.SchemaVersion(), nb.SchemaVersion)
			}
			if err := db.Check("Logical_Switch_Port", "no_such_column"); err == nil {
				t.Error("Check of a missing column passed")
			}
			schema := db.Schema()
			rep, err := Replicate(ctx, db.Endpoint(), &schema, want)
			if err != nil {
				t.Fatal(err)
			}
			defer rep.Close()
			if _, err := nb.NBCtl("ls-add", "sw", "--", "lsp-add", "sw", "p"); err != nil {
				t.Fatal(err)
			}
			if !waitUntil(5*time.Second, func() bool { return len(rep.State().Tables["Logical_Switch_Port"]) == 1 }) {
				t.Fatal("the new port does not reach the replica")
			}
			for _, r := range rep.State().Tables["Logical_Switch_Port"] {
				if _, ok := r.Cols["no_such_column"]; ok {
					t.Error("a column the schema lacks is in the row")
				}
				if r.Cols["name"] != "p" {
					t.Errorf("port row = %#v", r.Cols)
				}
			}
		})
	}
}

// TestReplicaLosesLeader: a replica of a cluster's leader reports the lost
// connection when the leader dies, and keeps its last state.
func TestReplicaLosesLeader(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovs-appctl")
	cl := daemons.StartNBCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, cl.Endpoints(), "OVN_Northbound")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := db.Schema()
	rep, err := Replicate(ctx, db.Endpoint(), &schema, map[string][]string{"Logical_Switch": {"name"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if _, err := cl.NBCtl("ls-add", "before"); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(5*time.Second, func() bool { return len(rep.State().Tables["Logical_Switch"]) == 1 }) {
		t.Fatal("the switch does not reach the replica")
	}
	if _, err := cl.KillLeader(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(5*time.Second, func() bool { return rep.Err() != nil }) {
		t.Fatal("the replica of a killed leader reports no error")
	}
	if len(rep.State().Tables["Logical_Switch"]) != 1 {
		t.Error("the last state is gone")
	}
}

// BenchmarkParseInitial measures decoding a monitor reply of 11,000 rows
// shaped like ovnrun's 1,000 switches of 10 ports.
func BenchmarkParseInitial(b *testing.B) {
	var schema ovsdb.DatabaseSchema
	data, err := os.ReadFile(daemons.DefaultNBSchema)
	if err != nil {
		b.Skip(err)
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		b.Fatal(err)
	}
	want := map[string][]string{
		"Logical_Switch":      {"name", "other_config", "external_ids", "ports"},
		"Logical_Switch_Port": {"name", "type", "addresses", "options", "dhcpv4_options", "dhcpv6_options", "port_security", "enabled", "tag_request", "external_ids", "dynamic_addresses"},
	}
	r := &Replica{tables: map[string]*replicaTable{}}
	for table, cols := range want {
		r.tables[table] = newReplicaTable(schema.Table(table), cols)
	}
	reply := initialReply(1000, 10)
	b.SetBytes(int64(len(reply)))
	for b.Loop() {
		r.state = &ReplicaState{Tables: map[string]map[string]*Row{}}
		if err := r.apply(reply); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(r.state.Tables["Logical_Switch_Port"]); n != 10000 {
		b.Fatalf("%d ports", n)
	}
}

func initialReply(switches, ports int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
	}
	lsp := map[string]any{}
	ls := map[string]any{}
	for i := range switches {
		var refs []any
		for j := range ports {
			u := uuid()
			refs = append(refs, []any{"uuid", u})
			lsp[u] = map[string]any{"initial": map[string]any{
				"name":              fmt.Sprintf("ls%d-p%d", i, j),
				"addresses":         fmt.Sprintf("0a:00:00:00:%02x:%02x dynamic", i%256, j),
				"dynamic_addresses": fmt.Sprintf("0a:00:00:00:%02x:%02x 10.%d.%d.%d", i%256, j, i/256, i%256, j+2),
				"external_ids":      []any{"map", []any{[]any{"ovnrun:action", fmt.Sprintf("logical_switch_port/ls%d-p%d", i, j)}, []any{"ovnrun:runbook", "scale.star"}}},
			}}
		}
		ls[uuid()] = map[string]any{"initial": map[string]any{
			"name":         fmt.Sprintf("ls%d", i),
			"other_config": []any{"map", []any{[]any{"subnet", fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}}},
			"external_ids": []any{"map", []any{[]any{"ovnrun:action", fmt.Sprintf("logical_switch/ls%d", i)}, []any{"ovnrun:runbook", "scale.star"}}},
			"ports":        []any{"set", refs},
		}}
	}
	data, _ := json.Marshal(map[string]any{"Logical_Switch": ls, "Logical_Switch_Port": lsp})
	return data
}
