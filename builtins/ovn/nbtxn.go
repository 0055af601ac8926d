package ovn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// txn collects the operations of one step: all of them are sent in one
// transaction, so a step lands whole or not at all. Rows created together
// reference each other by named UUID.
type txn struct {
	d    *NBDriver
	snap *snapshot
	rows []*rowPlan
	dels []*ownedRow

	ops      []ovsdb.Operation
	opAction []interp.Action // the action each operation is for
	// guards counts the wait operations that start the transaction.
	guards  int
	indexed map[string]bool // see nameIndexed
	// newRow maps the action ID of each created row, and newNamed the
	// table and name of each created named row, to its named UUID.
	newRow   map[string]string
	newNamed map[tableName]string
	insertAt map[string]int // named UUID -> index of its insert in ops
	globalAt int            // index of the insert of NB_Global, -1 (see insertGlobal)
	// refs are the reference mutations of existing parents.
	refs    map[refKey]*refChange
	deleted []string // UUIDs of deleted rows
	built   bool     // build has run (Prepare builds ahead of commit)
	sent    bool
	// ledger holds the changes to the ownership tags of rows of tables
	// without external_ids (nil: forget the row), ledgerAction the actions
	// they are for.
	ledger       map[string]*ledgerEntry
	ledgerAction []interp.Action
}

type refKey struct{ table, uuid, column string }

// tableName keys a named row by table and name (a struct key: joining the
// two into one string allocated for each of 11,000 rows of a bulk step).
type tableName struct{ table, name string }

type refChange struct {
	add, remove []string
	action      interp.Action
}

// newTxn starts a transaction of up to n changes: the maps and the rows a
// bulk build fills are sized once for them (11,000 rows grown one insert at
// a time rehash each map a dozen times).
func newTxn(d *NBDriver, s *snapshot, n int) *txn {
	return &txn{d: d, snap: s, rows: make([]*rowPlan, 0, n), newRow: make(map[string]string, n), newNamed: make(map[tableName]string, n),
		insertAt: make(map[string]int, n), refs: map[refKey]*refChange{}, globalAt: -1, indexed: map[string]bool{}}
}

// add takes one compared row into the transaction.
func (t *txn) add(rp *rowPlan) error {
	if len(rp.want.pending) > 0 {
		p := rp.want.pending[0]
		return actionError(rp.want.action, "%s: %w", p.label(), &interp.UnresolvedError{Future: p.future})
	}
	if rp.op() == interp.OpUnchanged {
		return nil
	}
	if rp.live == nil {
		named := "ovnrun" + strconv.Itoa(len(t.newRow))
		t.newRow[rp.want.action.Meta().ID] = named
		if rp.want.name != "" {
			t.newNamed[tableName{rp.want.spec.Name, rp.want.name}] = named
		}
	}
	t.rows = append(t.rows, rp)
	return nil
}

// build turns the collected rows into operations.
func (t *txn) build() error {
	if t.built {
		return nil
	}
	t.built = true
	// One operation per row, mostly, after the guards: sized once, as
	// growing (or prepending to) a slice of 12,000 operations copies and
	// clears megabytes. Nothing is emitted before build.
	guards := 0
	for _, rp := range t.rows {
		if rp.live == nil && t.guarded(rp.want) {
			guards++
		}
	}
	t.ops = make([]ovsdb.Operation, guards, guards+len(t.rows)+len(t.dels)+8)
	t.opAction = make([]interp.Action, guards, cap(t.ops))
	// Inserts first, so that links below can add children to the insert of
	// a parent created in the same transaction.
	for _, rp := range t.rows {
		if rp.live == nil {
			if err := t.insert(rp); err != nil {
				return err
			}
		}
	}
	for _, rp := range t.rows {
		var err error
		if rp.live != nil {
			err = t.update(rp)
		}
		for _, l := range rp.want.action.Links {
			if err == nil && rp.live == nil {
				err = t.link(rp.want, l.Ref, l.Parent, t.newRow[rp.want.action.M.ID])
			}
		}
		if err != nil {
			return err
		}
	}
	t.buildDeletes()
	if err := t.buildLedger(); err != nil {
		return err
	}
	for _, k := range slices.SortedFunc(maps.Keys(t.refs), compareRefKeys) {
		rc := t.refs[k]
		var muts []ovsdb.Mutation
		if len(rc.remove) > 0 {
			muts = append(muts, ovsdb.Mutation{Column: k.column, Mutator: ovsdb.MutateOperationDelete, Value: uuidSet(rc.remove)})
		}
		if len(rc.add) > 0 {
			muts = append(muts, ovsdb.Mutation{Column: k.column, Mutator: ovsdb.MutateOperationInsert, Value: uuidSet(rc.add)})
		}
		t.emit(rc.action, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: k.table, Where: ovsdbmodel.WhereUUID(k.uuid), Mutations: muts})
	}
	return nil
}

// guarded reports whether inserting w needs a guard: no schema index
// guards the names of its table (Logical_Switch, Logical_Router,
// Load_Balancer).
func (t *txn) guarded(w *desired) bool {
	return w.name != "" && !t.nameIndexed(w.spec.Name)
}

func (t *txn) insert(rp *rowPlan) error {
	w := rp.want
	row, err := t.row(w, w.spec.Columns, true)
	if err != nil {
		return err
	}
	if w.name != "" {
		row["name"] = w.name
	}
	named := t.newRow[w.action.M.ID]
	if t.guarded(w) {
		// Fail if another client created the row since we looked. The
		// guards go first in the transaction (build reserved their
		// places), where the table does not hold our new rows yet (each
		// costs the server a scan of the table).
		t.ops[t.guards] = ovsdb.Operation{Op: ovsdb.OperationWait, Table: w.spec.Name, Timeout: new(int),
			Where:   []ovsdb.Condition{ovsdb.NewCondition("name", ovsdb.ConditionEqual, w.name)},
			Columns: []string{"name"}, Until: string(ovsdb.WaitConditionNotEqual), Rows: []ovsdb.Row{{"name": w.name}}}
		t.opAction[t.guards] = w.action
		t.guards++
	}
	if t.d.untagged(w.spec.Name) {
		t.ledgerSet(w)
	}
	t.insertAt[named] = len(t.ops)
	t.emit(w.action, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: w.spec.Name, UUIDName: named, Row: row})
	return nil
}

// nameIndexed reports whether the server's schema makes table's name
// column unique (asked once per table: every insert asks).
func (t *txn) nameIndexed(table string) bool {
	if v, ok := t.indexed[table]; ok {
		return v
	}
	v := false
	if ts := t.d.db.Schema().Table(table); ts != nil {
		for _, idx := range ts.Indexes {
			if len(idx) == 1 && idx[0] == "name" {
				v = true
			}
		}
	}
	t.indexed[table] = v
	return v
}

func (t *txn) update(rp *rowPlan) error {
	w := rp.want
	if t.d.untagged(w.spec.Name) && (rp.foreign != "" || slices.ContainsFunc(rp.changed, func(c string) bool { return slices.Contains(w.spec.Key, c) })) {
		t.ledgerSet(w) // adopted, or found under another key
	}
	if len(rp.changed) > 0 {
		row, err := t.row(w, rp.changed, false)
		if err != nil {
			return err
		}
		t.emit(w.action, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: w.spec.Name, Where: ovsdbmodel.WhereUUID(rp.live.uuid), Row: row})
	}
	for _, l := range rp.links {
		if l.old != nil {
			rc := t.ref(refKey{l.old.table, l.old.uuid, l.ref.Column}, w.action)
			rc.remove = append(rc.remove, rp.live.uuid)
			continue
		}
		if err := t.link(w, l.ref, l.parent, rp.live.uuid); err != nil {
			return err
		}
	}
	return nil
}

// link makes the row called parent of ref.Table reference the row uuid: in
// the parent's own insert when it is created in this transaction, else by a
// mutation.
func (t *txn) link(w *desired, ref *Ref, parent, uuid string) error {
	if named, ok := t.newNamed[tableName{ref.Table, parent}]; ok {
		op := &t.ops[t.insertAt[named]]
		set, _ := op.Row[ref.Column].(ovsdb.OvsSet)
		set.GoSet = append(set.GoSet, ovsdb.UUID{GoUUID: uuid})
		op.Row[ref.Column] = set
		return nil
	}
	p := t.snap.named(ref.Table, parent)
	if p == nil {
		return actionError(w.action, "%s %q is not in the NB and is not created in this step (is its step selected?)", ref.Table, parent)
	}
	rc := t.ref(refKey{p.table, p.uuid, ref.Column}, w.action)
	rc.add = append(rc.add, uuid)
	return nil
}

func (t *txn) ref(k refKey, a interp.Action) *refChange {
	rc := t.refs[k]
	if rc == nil {
		rc = &refChange{action: a}
		t.refs[k] = rc
	}
	return rc
}

// row converts the desired values of columns into OVSDB notation. On insert
// empty values are left out (they are the default) and columns the server
// lacks are skipped (checkColumns made sure those are empty).
func (t *txn) row(w *desired, columns []string, insert bool) (ovsdb.Row, error) {
	ts := t.d.db.Schema().Table(w.spec.Name)
	row := make(ovsdb.Row, len(columns)+1) // +1: the name, set by insert
	for _, c := range columns {
		v := w.cols[c]
		if insert && v == nil {
			continue // most columns of an insert: no schema look-up for them
		}
		cs := ts.Column(c)
		if cs == nil {
			continue
		}
		switch r := v.(type) {
		case rowRef:
			uuid, err := t.resolveRef(w, r)
			if err != nil {
				return nil, err
			}
			v = uuid
		case []rowRef:
			uuids := make([]string, len(r))
			for i, x := range r {
				var err error
				if uuids[i], err = t.resolveRef(w, x); err != nil {
					return nil, err
				}
			}
			v = uuids
		}
		ov, err := ovsValue(cs, v)
		if err != nil {
			return nil, actionError(w.action, "column %s: %v", c, err)
		}
		row[c] = ov
	}
	return row, nil
}

func (t *txn) resolveRef(w *desired, r rowRef) (string, error) {
	if named, ok := t.newRow[r.id]; ok {
		return named, nil
	}
	if live := t.snap.ownedRow(r.id); live != nil {
		return live.uuid, nil
	}
	return "", actionError(w.action, "%s is not in the NB and is not created in this step (is its step selected?)", r.id)
}

// ovsValue converts a canonical value to OVSDB notation. The shapes rows
// mostly carry (strings, string sets and maps, integers, booleans, UUIDs)
// are converted directly: through toNative and libovsdb's reflective
// NativeToOvs they cost ~17 ms of an 11,000-row bulk build. Anything else
// takes that way.
func ovsValue(cs *ovsdb.ColumnSchema, v any) (any, error) {
	key := cs.TypeObj.Key.Type
	switch cs.Type {
	case ovsdb.TypeString, ovsdb.TypeInteger, ovsdb.TypeBoolean:
		switch v.(type) {
		case string, int, bool:
			if reflect.TypeOf(v) == ovsdb.NativeTypeFromAtomic(cs.Type) {
				return v, nil
			}
		}
	case ovsdb.TypeUUID:
		if s, ok := v.(string); ok {
			return ovsdb.UUID{GoUUID: s}, nil
		}
	case ovsdb.TypeSet:
		// libovsdb's native type of a set of at most one is the element
		// (or a pointer to it), of a larger one a slice.
		one := cs.TypeObj.Max() == 1
		switch x := v.(type) {
		case string:
			if one && key == ovsdb.TypeUUID {
				return ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: x}}}, nil
			}
			if one && key == ovsdb.TypeString {
				return ovsdb.OvsSet{GoSet: []any{x}}, nil
			}
		case []string:
			if !one && (key == ovsdb.TypeUUID || key == ovsdb.TypeString) {
				set := make([]any, len(x))
				for i, s := range x {
					if key == ovsdb.TypeUUID {
						set[i] = ovsdb.UUID{GoUUID: s}
					} else {
						set[i] = s
					}
				}
				return ovsdb.OvsSet{GoSet: set}, nil
			}
		case int:
			if one && key == ovsdb.TypeInteger {
				return ovsdb.OvsSet{GoSet: []any{x}}, nil
			}
		case bool:
			if one && key == ovsdb.TypeBoolean {
				return ovsdb.OvsSet{GoSet: []any{x}}, nil
			}
		}
	case ovsdb.TypeMap:
		if m, ok := v.(map[string]string); ok && key == ovsdb.TypeString && cs.TypeObj.Value.Type == ovsdb.TypeString {
			gm := make(map[any]any, len(m))
			for k, x := range m {
				gm[k] = x
			}
			return ovsdb.OvsMap{GoMap: gm}, nil
		}
	}
	native, err := toNative(cs, v)
	if err != nil {
		return nil, err
	}
	return ovsdb.NativeToOvs(cs, native)
}

// toNative converts a canonical value to the Go type libovsdb uses for the
// column: optional values become pointers, nil the empty value.
func toNative(cs *ovsdb.ColumnSchema, v any) (any, error) {
	typ := ovsdb.NativeType(cs)
	if v == nil {
		return reflect.Zero(typ).Interface(), nil
	}
	rv := reflect.ValueOf(v)
	if typ.Kind() == reflect.Pointer && rv.Type().AssignableTo(typ.Elem()) {
		p := reflect.New(typ.Elem())
		p.Elem().Set(rv)
		return p.Interface(), nil
	}
	if !rv.Type().AssignableTo(typ) {
		return nil, fmt.Errorf("value %v (%T) does not fit the column's type %s", v, v, typ)
	}
	return v, nil
}

func (t *txn) emit(a interp.Action, op ovsdb.Operation) {
	t.ops = append(t.ops, op)
	t.opAction = append(t.opAction, a)
}

func uuidSet(uuids []string) ovsdb.OvsSet {
	set := ovsdb.OvsSet{GoSet: make([]any, len(uuids))}
	for i, u := range uuids {
		set.GoSet[i] = ovsdb.UUID{GoUUID: u}
	}
	return set
}

func compareRefKeys(a, b refKey) int {
	return strings.Compare(a.table+a.uuid+a.column, b.table+b.uuid+b.column)
}

// commit sends the transaction, if there is anything to send. A failure
// names the action whose operation failed and its runbook position; the
// server rolled the whole transaction back.
func (t *txn) commit(ctx context.Context) error {
	if err := t.build(); err != nil {
		return err
	}
	if len(t.ops) == 0 {
		return nil
	}
	n := len(t.ops)
	waitAt, err := t.addWait()
	if err != nil {
		return err
	}
	// The transaction goes, on a connection of its own, to the server
	// libovsdb follows (a cluster's leader); while libovsdb reconnects it
	// has none, which Apply retries like a lost connection.
	ep := t.d.db.Endpoint()
	if ep == "" {
		return &connectionError{client.ErrNotConnected, "before the transaction"}
	}
	t.sent = true
	t.d.transactions.Add(1)
	if t.bulk() {
		// While the server commits, it would stream every new row to the
		// cache's monitor, in the transaction's critical path (on 11,000
		// rows, a third of its time); reading the NB again when it is next
		// needed costs about as much, and nothing when no later step
		// looks.
		t.d.replica.Close()
		slog.Debug("nb cache closed for a bulk transaction", "rows", t.written())
	}
	t0 := time.Now()
	res, err := ovsdbmodel.Transact(ctx, ep, t.d.db.Schema().Name, t.ops, t.d.opts...)
	slog.Debug("nb transaction", "operations", len(t.ops), "took", time.Since(t0))
	if err != nil {
		if ctx.Err() == nil && isConnectionLoss(err) {
			return &connectionError{err, "during the transaction"}
		}
		return fmt.Errorf("nb: transaction of %d operations: %w", n, err)
	}
	if err := t.check(res); err != nil {
		return err
	}
	if waitAt >= 0 {
		return t.d.waitProcessed(ctx, res[waitAt])
	}
	return nil
}

// bulkRows is the fewest rows a transaction must write to count as bulk.
const bulkRows = 1000

// bulk reports whether the transaction writes at least bulkRows rows and as
// many as the NB holds: it builds most of the NB.
func (t *txn) bulk() bool {
	n := t.written()
	return n >= bulkRows && n >= len(t.snap.byUUID)
}

// written counts the rows the transaction inserts or updates.
func (t *txn) written() int {
	n := 0
	for _, op := range t.ops {
		if op.Op == ovsdb.OperationInsert || op.Op == ovsdb.OperationUpdate {
			n++
		}
	}
	return n
}

func (t *txn) check(res []ovsdb.OperationResult) error {
	for i, r := range res {
		if r.Error == "" {
			continue
		}
		msg := strings.TrimSpace(r.Error + ": " + r.Details)
		if i >= len(t.ops) {
			// The commit itself failed (referential integrity, constraints
			// checked at commit): find the row the server names.
			err := t.commitError(res, msg)
			if strings.Contains(msg, "identical values") { // a unique index: the row exists now
				err = &conflictError{err}
			}
			if t.globalAt >= 0 && strings.Contains(msg, `"NB_Global" table to contain`) {
				// We inserted the NB_Global row the NB lacked, and so did
				// another client (ovn-northd starting) meanwhile.
				err = &globalRaceError{err}
			}
			return err
		}
		op := t.ops[i]
		if t.opAction[i] == nil {
			return fmt.Errorf("nb: %s; the step's transaction was rolled back", msg)
		}
		if op.Op == ovsdb.OperationWait {
			msg = fmt.Sprintf("another client created %s %q meanwhile (%s)", op.Table, op.Rows[0]["name"], r.Error)
			return &conflictError{fmt.Errorf("%w; the step's transaction was rolled back", actionError(t.opAction[i], "%s", msg))}
		}
		return fmt.Errorf("%w; the step's transaction was rolled back", actionError(t.opAction[i], "%s", msg))
	}
	return nil
}

func (t *txn) commitError(res []ovsdb.OperationResult, msg string) error {
	for i, r := range res[:len(t.ops)] {
		if u := r.UUID.GoUUID; u != "" && strings.Contains(msg, u) && t.opAction[i] != nil {
			return fmt.Errorf("%w; the step's transaction was rolled back", actionError(t.opAction[i], "%s", msg))
		}
	}
	for i, op := range t.ops {
		for _, c := range op.Where {
			if u, ok := c.Value.(ovsdb.UUID); ok && strings.Contains(msg, u.GoUUID) && t.opAction[i] != nil {
				return fmt.Errorf("%w; the step's transaction was rolled back", actionError(t.opAction[i], "%s", msg))
			}
		}
	}
	return fmt.Errorf("nb: the step's transaction of %d operations failed and was rolled back: %s", len(t.ops), msg)
}

// globalRaceError is a transaction that inserted the missing NB_Global row
// while another client did too: comparing again finds the row.
type globalRaceError struct{ err error }

func (e *globalRaceError) Error() string { return e.err.Error() }
func (e *globalRaceError) Unwrap() error { return e.err }

// conflictError is a transaction that created a row which another
// transaction had created meanwhile (a name taken since we looked).
type conflictError struct{ err error }

func (e *conflictError) Error() string { return e.err.Error() }
func (e *conflictError) Unwrap() error { return e.err }

// isConnectionLoss tells a transaction that died with its connection (it
// may or may not have been committed) from one the client refused.
func isConnectionLoss(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, client.ErrNotConnected) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
