package ovsdbmodel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// The direct encoder must say what libovsdb's MarshalJSON methods say.
func TestAppendOperationLikeLibovsdb(t *testing.T) {
	timeout, durable, comment := 0, true, "a \"comment\"\n"
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationInsert, Table: "Logical_Switch", UUIDName: "ovnrun0", Row: ovsdb.Row{
			"name":         "sw0 \u00e9\u2028\x01\x7f\\\t",
			"other_config": ovsdb.OvsMap{GoMap: map[any]any{"subnet": "10.0.0.0/24", "exclude_ips": "10.0.0.1"}},
			"ports":        ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "ovnrun1"}, ovsdb.UUID{GoUUID: "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5d"}}},
			"one":          ovsdb.OvsSet{GoSet: []any{"x"}},
			"none":         ovsdb.OvsSet{GoSet: []any{}},
			"emptymap":     ovsdb.OvsMap{GoMap: map[any]any{}},
			"tag":          2,
			"tag64":        int64(-7),
			"real":         1.5e-7,
			"enabled":      false,
			"intmap":       ovsdb.OvsMap{GoMap: map[any]any{4: 10}},
			"bad utf8":     "a\xffb",
		}},
		{Op: ovsdb.OperationWait, Table: "Logical_Switch", Timeout: &timeout, Until: "==",
			Where:   []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "sw0"}},
			Columns: []string{"name"}, Rows: []ovsdb.Row{}},
		{Op: ovsdb.OperationMutate, Table: "Logical_Switch",
			Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5d"}}},
			Mutations: []ovsdb.Mutation{
				{Column: "ports", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5e"}}}},
				{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "ovnrun2"}, ovsdb.UUID{GoUUID: "ovnrun3"}}}},
			}},
		{Op: ovsdb.OperationSelect, Table: "NB_Global", Columns: []string{"nb_cfg"}},
		{Op: ovsdb.OperationUpdate, Table: "NB_Global", Where: []ovsdb.Condition{{Column: "nb_cfg", Function: ovsdb.ConditionGreaterThan, Value: 3}},
			Row: ovsdb.Row{"external_ids": ovsdb.OvsMap{GoMap: map[any]any{"k": "v"}}}},
		{Op: ovsdb.OperationDelete, Table: "ACL", Where: []ovsdb.Condition{{Column: "priority", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{1, 2}}}}},
		{Op: ovsdb.OperationComment, Comment: &comment},
		{Op: ovsdb.OperationCommit, Durable: &durable},
		{Op: ovsdb.OperationAssert, Lock: &comment},
		{Op: ovsdb.OperationInsert, Table: "Address_Set", UUID: "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5f", Row: ovsdb.Row{"name": "as"}},
	}
	for _, op := range ops {
		got, err := appendOperation(nil, &op)
		if err != nil {
			t.Fatalf("%s: %v", op.Op, err)
		}
		want, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := decodeSorted(t, got), decodeSorted(t, want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", op.Op, got, want)
		}
	}
	if _, err := appendValue(nil, ovsdb.OvsSet{GoSet: []any{1.0, nanValue()}}); err == nil {
		t.Error("a NaN was encoded")
	}
}

func nanValue() float64 { z := 0.0; return z / z }

// decodeSorted decodes JSON and sorts the pairs of every ["map", pairs] and
// the members of every ["set", members], whose order Go's maps leave open.
func decodeSorted(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
			if len(x) == 2 && (x[0] == "map" || x[0] == "set") {
				if inner, ok := x[1].([]any); ok {
					slices.SortFunc(inner, func(a, b any) int {
						ja, _ := json.Marshal(a)
						jb, _ := json.Marshal(b)
						return strings.Compare(string(ja), string(jb))
					})
				}
			}
		}
		return v
	}
	return walk(v)
}

func TestTransactRealServer(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	nb := daemons.StartNB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, []string{nb.Sock}, "OVN_Northbound")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	// A switch and its port created together, the port named by the
	// switch through its named UUID.
	res, err := Transact(ctx, db.Endpoint(), "OVN_Northbound", []ovsdb.Operation{
		{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: "p", Row: ovsdb.Row{"name": "p0 \u00e9", "addresses": "00:00:00:00:00:01 dynamic"}},
		{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{
			"name": "sw0", "ports": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "p"}}},
			"other_config": ovsdb.OvsMap{GoMap: map[any]any{"subnet": "10.0.0.0/24"}},
		}},
		{Op: ovsdb.OperationSelect, Table: "Logical_Switch_Port", Columns: []string{"name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || len(res[0].UUID.GoUUID) != 36 || len(res[1].UUID.GoUUID) != 36 || res[0].Error != "" {
		t.Fatalf("results: %+v", res)
	}
	if len(res[2].Rows) != 1 || res[2].Rows[0]["name"] != "p0 \u00e9" {
		t.Fatalf("select: %+v", res[2].Rows)
	}

	// A wait that fails rolls back the insert after it; the results say
	// which operation failed.
	timeout := 0
	res, err = Transact(ctx, db.Endpoint(), "OVN_Northbound", []ovsdb.Operation{
		{Op: ovsdb.OperationWait, Table: "Logical_Switch", Timeout: &timeout, Until: "!=", Columns: []string{"name"},
			Where: []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "sw0"}}, Rows: []ovsdb.Row{{"name": "sw0"}}},
		{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": "sw1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < 1 || res[0].Error != "timed out" {
		t.Fatalf("wait: %+v", res)
	}

	// A commit that breaks referential integrity: one result more than
	// operations, with the error.
	res, err = Transact(ctx, db.Endpoint(), "OVN_Northbound", []ovsdb.Operation{
		{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": "sw2",
			"ports": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "8f7d5d0c-8d66-4c5a-9d0e-8a1a2a3b4c5d"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[1].Error != "referential integrity violation" {
		t.Fatalf("commit failure: %+v", res)
	}

	// An unknown database is the request's error.
	if _, err := Transact(ctx, db.Endpoint(), "Nope", nil); err == nil || !strings.Contains(err.Error(), "unknown database") {
		t.Fatalf("unknown database: %v", err)
	}

	// An operation that cannot be encoded, after more than one chunk of
	// the request was written: the request is cut short and the server
	// runs none of it.
	var many []ovsdb.Operation
	for i := 0; len(many)*100 < 3*requestChunk; i++ {
		many = append(many, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": fmt.Sprintf("cut%d", i),
			"external_ids": ovsdb.OvsMap{GoMap: map[any]any{"padding": strings.Repeat("x", 60)}}}})
	}
	many = append(many, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": make(chan int)}})
	if _, err := Transact(ctx, db.Endpoint(), "OVN_Northbound", many); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("operation %d (insert Logical_Switch)", len(many)-1)) {
		t.Fatalf("an unencodable operation: %v", err)
	}
	res, err = Transact(ctx, db.Endpoint(), "OVN_Northbound", []ovsdb.Operation{{Op: ovsdb.OperationSelect, Table: "Logical_Switch", Columns: []string{"name"}}})
	if err != nil || len(res[0].Rows) != 1 {
		t.Fatalf("switches after the failed transactions: %+v, %v", res, err)
	}
}

// A server that answers the request with an echo first, then drops the
// connection: the echo is answered, the loss is a read error the caller
// can tell from a refusal.
func TestTransactEchoAndLoss(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", dir+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	echoed := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f := &framer{r: bufio.NewReader(c)}
		if _, err := f.next(); err != nil {
			return
		}
		c.Write([]byte(`{"id":"e1","method":"echo","params":["x"]}`))
		msg, err := f.next()
		if err != nil {
			return
		}
		echoed <- string(msg)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Transact(ctx, "unix:"+dir+"/s", "OVN_Northbound", []ovsdb.Operation{{Op: ovsdb.OperationComment}})
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		var ne net.Error
		if !errors.As(err, &ne) {
			t.Fatalf("connection loss: %v", err)
		}
	}
	if got := <-echoed; got != `{"id":"e1","result":["x"],"error":null}` {
		t.Fatalf("echo reply: %s", got)
	}
}
