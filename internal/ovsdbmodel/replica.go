package ovsdbmodel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/dialguard"
)

// Replica is a read-only copy of chosen columns of chosen tables, kept
// current by one monitor (monitor_cond) on a connection of its own.
//
// It exists for speed. libovsdb fills its cache at ~30 µs a row: it decodes
// the monitor reply into generic rows, maps each onto a model by reflection
// and then clones the model through a JSON round trip, because models made
// with reflect.StructOf cannot implement model.CloneableModel. At 11,000 rows
// that is 0.4 s of CPU before anything can be planned. A Replica decodes the
// same reply straight into immutable rows of native values, over ten times
// faster. And since it listens on its own connection, a transaction sent on
// the DB's connection is answered without first waiting for its own update
// to be decoded (the server sends a session's updates before its replies).
type Replica struct {
	endpoint string
	conn     net.Conn
	tables   map[string]*replicaTable

	mu    sync.Mutex
	state *ReplicaState
	// pending are the <table-updates2> received and not applied yet: they
	// are parsed when the state is next read, so an update nobody reads
	// (the last transaction of a run) costs no parsing.
	pending [][]byte
	broken  error // an update that could not be applied

	done chan struct{} // closed when the reader stops
	err  error         // why it stopped; read after done is closed
	once sync.Once
}

// ReplicaState is what a Replica holds at one moment. A state is never
// modified: each update from the server makes a new one, which shares the
// maps of unchanged tables and the rows of unchanged rows with the previous
// state. Pointer equality of states, and of rows, therefore says "unchanged".
type ReplicaState struct {
	// Tables maps table name, then row UUID, to the row. Every replicated
	// table the server has is present, possibly empty.
	Tables map[string]map[string]*Row
}

// Row is one replicated row. Cols holds every replicated column as the
// native Go value libovsdb would use (ovsdb.NativeType): string, int,
// float64, bool, *T for an optional value, []T for a set, map[K]V for a map;
// a column at its default holds the zero value of that type (a typed nil for
// sets, maps and optional values). Rows are never modified.
type Row struct {
	UUID string
	Cols map[string]any
}

// Strings returns the elements of a string or UUID column's native value:
// a set ([]string, shared, not copied), an optional value (*string) or a
// single one (string); none for the empty value or another type.
func Strings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case *string:
		if v != nil {
			return []string{*v}
		}
	case string:
		if v != "" {
			return []string{v}
		}
	}
	return nil
}

type replicaTable struct {
	columns []string                  // replicated columns, in request order
	byName  map[string]*replicaColumn // by column name
}

// replicaColumn is what parsing and updating a column needs of its schema.
type replicaColumn struct {
	name     string
	schema   *ovsdb.ColumnSchema
	native   reflect.Type // ovsdb.NativeType
	shape    shape
	key, val string // basic types of the key (or atom) and of a map's value
	zero     any    // the default: the zero value of native
}

type shape int

const (
	shapeAtom     shape = iota // exactly one value: T
	shapeOptional              // zero or one: *T
	shapeSet                   // []T
	shapeMap                   // map[K]V
)

// Replicate connects to endpoint ("unix:PATH", "tcp:HOST:PORT" or
// "ssl:HOST:PORT"), monitors the wanted columns of the tables of schema's
// database (tables and columns the schema lacks are left out) and returns
// once the initial contents are in. Callers pass a DB's endpoint, which is
// the leader of a clustered database. When the connection is lost the
// Replica keeps its last state and Err says why; make a new one. An ssl:
// endpoint takes the options' TLS configuration (WithTLS).
func Replicate(ctx context.Context, endpoint string, schema *ovsdb.DatabaseSchema, want map[string][]string, opts ...Option) (*Replica, error) {
	r := &Replica{endpoint: endpoint, tables: map[string]*replicaTable{}, done: make(chan struct{})}
	requests := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		ts := schema.Table(name)
		if ts == nil {
			continue
		}
		rt := newReplicaTable(ts, want[name])
		r.tables[name] = rt
		columns := rt.columns
		if len(columns) == 0 {
			columns = []string{"_uuid"} // rows without columns still come and go
		}
		requests[name] = []any{map[string]any{"columns": columns}}
	}
	initial := &ReplicaState{Tables: map[string]map[string]*Row{}}
	for name := range r.tables {
		initial.Tables[name] = map[string]*Row{}
	}
	r.state = initial
	if len(requests) == 0 {
		return r, nil // nothing to read; Err stays nil until Close
	}

	conn, err := dial(ctx, endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("ovsdbmodel: replicate %s: %w", schema.Name, err)
	}
	r.conn = conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	f := &framer{r: bufio.NewReaderSize(conn, 256<<10)}
	req, err := json.Marshal(map[string]any{"id": "replica", "method": "monitor_cond",
		"params": []any{schema.Name, "replica", requests}})
	if err == nil {
		_, err = conn.Write(req)
	}
	if err == nil {
		err = r.readInitial(f)
	}
	if !stop() || err != nil {
		conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("ovsdbmodel: replicate %s from %s: %w", schema.Name, endpoint, err)
	}
	go r.read(f)
	return r, nil
}

// newReplicaTable keeps the columns of want that ts has.
func newReplicaTable(ts *ovsdb.TableSchema, want []string) *replicaTable {
	rt := &replicaTable{byName: map[string]*replicaColumn{}}
	for _, c := range want {
		cs := ts.Column(c)
		if cs == nil || c == "_uuid" || rt.byName[c] != nil {
			continue
		}
		rc := &replicaColumn{name: c, schema: cs, native: ovsdb.NativeType(cs), key: cs.TypeObj.Key.Type}
		rc.zero = reflect.Zero(rc.native).Interface()
		switch {
		case cs.Type == ovsdb.TypeMap:
			rc.shape, rc.val = shapeMap, cs.TypeObj.Value.Type
		case rc.native.Kind() == reflect.Pointer:
			rc.shape = shapeOptional
		case rc.native.Kind() == reflect.Slice:
			rc.shape = shapeSet
		}
		rt.columns = append(rt.columns, c)
		rt.byName[c] = rc
	}
	return rt
}

// dial connects to endpoint; an ssl: endpoint with the TLS configuration of
// opts (WithTLS), else Go's defaults, as libovsdb does.
func dial(ctx context.Context, endpoint string, opts []Option) (net.Conn, error) {
	proto, addr, ok := strings.Cut(endpoint, ":")
	if !ok {
		return nil, fmt.Errorf("endpoint %q: want unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT", endpoint)
	}
	if proto == "tcp" || proto == "ssl" {
		if err := dialguard.Check("tcp", addr); err != nil {
			return nil, err
		}
	}
	var d net.Dialer
	switch proto {
	case "unix", "tcp":
		return d.DialContext(ctx, proto, addr)
	case "ssl":
		conn, err := (&tls.Dialer{NetDialer: &d, Config: newOptions(opts).tls}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", endpoint, err)
		}
		return conn, nil
	}
	return nil, fmt.Errorf("endpoint %q: unknown protocol %q", endpoint, proto)
}

// readInitial reads up to the monitor's reply and stores its rows.
func (r *Replica) readInitial(f *framer) error {
	for {
		msg, err := f.next()
		if err != nil {
			return err
		}
		e, err := parseEnvelope(msg)
		if err != nil {
			return err
		}
		if e.methodName() != "" {
			if err := r.handle(e); err != nil {
				return err
			}
			continue
		}
		if string(e.id) != `"replica"` {
			continue
		}
		if e.error != nil && string(e.error) != "null" {
			return fmt.Errorf("monitor_cond: %s", e.error)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.apply(e.result); err != nil {
			return fmt.Errorf("monitor_cond reply: %w", err)
		}
		return nil
	}
}

// read applies updates until the connection ends.
func (r *Replica) read(f *framer) {
	var err error
	for err == nil {
		var msg []byte
		if msg, err = f.next(); err == nil {
			var e *envelope
			if e, err = parseEnvelope(msg); err == nil {
				err = r.handle(e)
			}
		}
	}
	r.conn.Close()
	r.err = err
	close(r.done)
}

// handle answers the server's requests and applies its update2
// notifications; it ignores anything else.
func (r *Replica) handle(e *envelope) error {
	switch e.methodName() {
	case "echo":
		// The server's inactivity probe (tcp and ssl): answer or be dropped.
		_, err := r.conn.Write(echoReply(e))
		return err
	case "update2":
		params, err := arrayMembers(e.params)
		if err != nil || len(params) != 2 {
			return fmt.Errorf("update2 with parameters %.100s", e.params)
		}
		r.mu.Lock()
		r.pending = append(r.pending, params[1])
		r.mu.Unlock()
	}
	return nil
}

func orNull(b []byte) []byte {
	if b == nil {
		return []byte("null")
	}
	return b
}

// apply makes the next state from the current one and a <table-updates2>.
// Tables it does not touch, and rows it does not change, are shared. The
// caller holds r.mu.
func (r *Replica) apply(updates []byte) error {
	cur := r.state
	next := &ReplicaState{Tables: maps.Clone(cur.Tables)}
	copied := map[string]bool{}
	err := parseTableUpdates2(updates, r.tables, func(u rowUpdate) error {
		rows := next.Tables[u.table]
		if !copied[u.table] {
			copied[u.table] = true
			rows = maps.Clone(rows)
			if rows == nil {
				rows = map[string]*Row{}
			}
			next.Tables[u.table] = rows
		}
		rt := r.tables[u.table]
		switch u.kind {
		case "initial", "insert":
			rows[u.uuid] = rt.newRow(u.uuid, u.cols)
		case "modify":
			old := rows[u.uuid]
			if old == nil {
				return fmt.Errorf("update2 modifies %s row %s, which the replica does not have", u.table, u.uuid)
			}
			rows[u.uuid] = rt.modify(old, u.cols)
		default:
			delete(rows, u.uuid)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.state = next
	return nil
}

// newRow makes a row of the columns sent (a row update omits those at
// their default) and the defaults of the others.
func (rt *replicaTable) newRow(uuid string, cols map[string]any) *Row {
	if len(cols) < len(rt.columns) {
		for _, c := range rt.columns {
			if _, ok := cols[c]; !ok {
				cols[c] = rt.byName[c].zero
			}
		}
	}
	return &Row{UUID: uuid, Cols: cols}
}

// modify applies an update2 "modify": the new value of single-valued
// columns, the symmetric difference of sets, and for maps the pairs to add,
// to change (same key, new value) or to remove (same key and value).
func (rt *replicaTable) modify(old *Row, diff map[string]any) *Row {
	row := &Row{UUID: old.UUID, Cols: maps.Clone(old.Cols)}
	for c, d := range diff {
		switch rt.byName[c].shape {
		case shapeSet:
			d = setDifference(row.Cols[c], d)
		case shapeMap:
			d = applyMapDifference(row.Cols[c], d)
		}
		row.Cols[c] = d
	}
	return row
}

// State returns the current contents: the updates received so far are
// applied first. After an update that cannot be applied it returns the state
// before it, and Err reports the replica broken.
func (r *Replica) State() *ReplicaState {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) > 0 && r.broken == nil {
		u := r.pending[0]
		r.pending = r.pending[1:]
		if err := r.apply(u); err != nil {
			r.broken = fmt.Errorf("update2: %w", err)
			r.conn.Close()
		}
	}
	return r.state
}

// Endpoint returns the endpoint the Replica reads from.
func (r *Replica) Endpoint() string { return r.endpoint }

// Err returns nil while the Replica is connected and its updates apply, and
// then why not.
func (r *Replica) Err() error {
	r.mu.Lock()
	broken := r.broken
	r.mu.Unlock()
	if broken != nil {
		return fmt.Errorf("ovsdbmodel: replica of %s: %w", r.endpoint, broken)
	}
	select {
	case <-r.done:
		if r.err == nil {
			return errors.New("ovsdbmodel: replica closed")
		}
		return fmt.Errorf("ovsdbmodel: replica of %s: %w", r.endpoint, r.err)
	default:
		return nil
	}
}

// Close disconnects. The last state stays readable.
func (r *Replica) Close() {
	r.once.Do(func() {
		if r.conn == nil {
			close(r.done)
			return
		}
		r.conn.Close()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second): // a reader stuck decoding is no reason to hang
		}
	})
}
