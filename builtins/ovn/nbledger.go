package ovn

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// Some tables have no external_ids column (Static_MAC_Binding), so their
// rows cannot carry ovnrun's ownership tags. The ledger keeps those tags in
// NB_Global external_ids instead, one key per row this runbook created:
//
//	ovnrun:row:<runbook>:<action ID> = {"runbook":..., "action":..., "table":..., "key":[...]}
//
// where key holds the values of the row's Table.Key columns, which such a
// table must make unique (Static_MAC_Binding: logical_port and ip, a schema
// index). A row of such a table whose key a ledger entry names carries that
// entry's tags, as if they were in its own external_ids. ovn-northd ignores
// keys it does not know in NB_Global external_ids.
const ledgerPrefix = "ovnrun:row:"

type ledgerEntry struct {
	Runbook string `json:"runbook"`
	Action  string `json:"action"`
	Table   string `json:"table"`
	Key     string `json:"key"`
}

func ledgerKey(runbook, action string) string { return ledgerPrefix + runbook + ":" + action }

// untagged reports whether the server's schema gives table no external_ids.
func (d *NBDriver) untagged(table string) bool {
	ts := d.db.Schema().Table(table)
	return ts != nil && ts.Column("external_ids") == nil
}

// keyOf is the ledger's text of the key columns of a row, from canonical
// values (a desired row's) or native ones (a live row's).
func keyOf(t *Table, cols map[string]any) string {
	vals := make([]any, len(t.Key))
	for i, c := range t.Key {
		vals[i] = canon(cols[c])
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// ledger is the ledger of one state of the NB: table -> key -> entry.
type ledger map[string]map[string]ledgerEntry

// readLedger reads the ledger from the NB_Global row of st, if any.
func readLedger(st *ovsdbmodel.ReplicaState) ledger {
	l := ledger{}
	for _, row := range st.Tables["NB_Global"] {
		ext, _ := row.Cols["external_ids"].(map[string]string)
		for k, v := range ext {
			var e ledgerEntry
			if !strings.HasPrefix(k, ledgerPrefix) || json.Unmarshal([]byte(v), &e) != nil {
				continue
			}
			if l[e.Table] == nil {
				l[e.Table] = map[string]ledgerEntry{}
			}
			l[e.Table][e.Key] = e
		}
	}
	return l
}

// withOwner returns r with the tags the ledger gives it (none when it
// names none): a copy when they differ, since rows are shared between
// snapshots.
func (l ledger) withOwner(r *liveRow) *liveRow {
	t := tableNamed(r.table)
	var e ledgerEntry
	if t != nil && t.Key != nil {
		e = l[r.table][keyOf(t, r.cols)]
	}
	if r.runbook == e.Runbook && r.action == e.Action {
		return r
	}
	cp := *r
	cp.runbook, cp.action = e.Runbook, e.Action
	return &cp
}

// ledgerSet records in t that the row of w is this runbook's; ledgerDel
// forgets the row of action id.
func (t *txn) ledgerSet(w *desired) {
	if t.ledger == nil {
		t.ledger = map[string]*ledgerEntry{}
	}
	id := w.action.M.ID
	cols := w.cols
	if w.name != "" { // the name is identity, not among the columns written
		cols = maps.Clone(cols)
		cols["name"] = w.name
	}
	t.ledger[ledgerKey(t.d.cfg.Owner, id)] = &ledgerEntry{Runbook: t.d.cfg.Owner, Action: id, Table: w.spec.Name, Key: keyOf(w.spec, cols)}
	t.ledgerAction = append(t.ledgerAction, w.action)
}

func (t *txn) ledgerDel(o *ownedRow) {
	if t.ledger == nil {
		t.ledger = map[string]*ledgerEntry{}
	}
	t.ledger[ledgerKey(t.d.cfg.Owner, o.M.ID)] = nil
	t.ledgerAction = append(t.ledgerAction, o)
}

// buildLedger adds the mutation of NB_Global external_ids that writes the
// ledger's changes: each key is deleted, then set again unless forgotten
// (an OVSDB map insert keeps a key's old value).
func (t *txn) buildLedger() error {
	if len(t.ledger) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(t.ledger))
	del := ovsdb.OvsSet{}
	set := ovsdb.OvsMap{GoMap: map[any]any{}}
	for _, k := range keys {
		del.GoSet = append(del.GoSet, k)
		if e := t.ledger[k]; e != nil {
			b, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("nb: ledger entry %s: %w", k, err)
			}
			set.GoMap[k] = string(b)
		}
	}
	if t.snap.global == nil {
		// No ovn-northd has run yet: the row holding the ledger is made
		// here, as ovn-nbctl makes it.
		maps.Copy(t.insertGlobal(t.ledgerAction[0]).Row["external_ids"].(ovsdb.OvsMap).GoMap, set.GoMap)
		return nil
	}
	muts := []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: del}}
	if len(set.GoMap) > 0 {
		muts = append(muts, ovsdb.Mutation{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: set})
	}
	t.emit(t.ledgerAction[0], ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "NB_Global",
		Where: ovsdbmodel.WhereUUID(t.snap.global.uuid), Mutations: muts})
	return nil
}

// insertGlobal returns the insert of the NB_Global row in t, adding it
// when there is none yet: without ovn-northd (which makes the row when it
// starts) the ledger and --wait need it, and ovn-nbctl inserts it too.
// NB_Global holds at most one row, so if northd inserts its own meanwhile
// this transaction fails rather than making a second.
func (t *txn) insertGlobal(a interp.Action) *ovsdb.Operation {
	if t.globalAt < 0 {
		t.globalAt = len(t.ops)
		t.emit(a, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "NB_Global", Row: ovsdb.Row{"external_ids": ovsdb.OvsMap{GoMap: map[any]any{}}}})
	}
	return &t.ops[t.globalAt]
}
