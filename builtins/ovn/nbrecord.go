package ovn

import (
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// Rows of a table without external_ids (Load_Balancer_Group, in every OVN
// version) cannot carry ovnrun's ownership tags. For named rows of such a
// table ovnrun keeps the tags in NB_Global external_ids instead, one key per
// row: "ovnrun:owns:TABLE:NAME" = "ACTION RUNBOOK", written and removed in
// the transaction that creates (or adopts) and deletes the row. The snapshot
// gives such a row the tags of its record, so the rest of the driver sees
// tags as on any other row. Rows of such tables without a name cannot be
// owned.

const recordPrefix = "ovnrun:owns:"

func recordKey(table, name string) string { return recordPrefix + table + ":" + name }

// record is the ownership tags of one untagged row.
type record struct{ action, runbook string }

// records reads the records from the NB_Global row of rows (the table's
// rows by UUID).
func records(rows map[string]*ovsdbmodel.Row) map[string]record {
	out := map[string]record{}
	for _, g := range rows {
		ext, _ := g.Cols["external_ids"].(map[string]string)
		for k, v := range ext {
			if strings.HasPrefix(k, recordPrefix) {
				action, runbook, _ := strings.Cut(v, " ")
				out[k] = record{action, runbook}
			}
		}
	}
	return out
}

// withRecord returns r with the tags of its record, if its table keeps them
// in NB_Global: a copy, since rows are shared between snapshots.
func withRecord(r *liveRow, recs map[string]record, untagged bool) *liveRow {
	if !untagged || r.name() == "" {
		return r
	}
	rec := recs[recordKey(r.table, r.name())]
	if rec.action == r.action && rec.runbook == r.runbook {
		return r
	}
	cp := *r
	cp.action, cp.runbook = rec.action, rec.runbook
	return &cp
}

// untagged reports whether table's rows have a name but no external_ids in
// the server's schema.
func untagged(schema *ovsdb.DatabaseSchema, table string) bool {
	ts := schema.Table(table)
	return ts != nil && ts.Column("external_ids") == nil && ts.Column("name") != nil
}

func (t *txn) untagged(table string) bool {
	s := t.d.db.Schema()
	return untagged(&s, table)
}

// setRecord writes (or, with value "", removes) key of NB_Global
// external_ids. Without an NB_Global row (no ovn-northd has started yet) it
// inserts one, as ovn-nbctl does.
func (t *txn) setRecord(a interp.Action, key, value string) {
	if g := t.snap.global; g != nil {
		muts := []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{key}}}}
		if value != "" {
			muts = append(muts, ovsdb.Mutation{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert,
				Value: ovsdb.OvsMap{GoMap: map[any]any{key: value}}})
		}
		t.emit(a, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: ovsdbmodel.WhereUUID(g.uuid), Mutations: muts})
		return
	}
	if value == "" {
		return
	}
	if t.globalAt < 0 {
		t.globalAt = len(t.ops)
		t.emit(a, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "NB_Global", Row: ovsdb.Row{"external_ids": ovsdb.OvsMap{GoMap: map[any]any{}}}})
	}
	t.ops[t.globalAt].Row["external_ids"].(ovsdb.OvsMap).GoMap[key] = value
}

// recordOwner records w's row as this runbook's, if its table keeps the
// tags in NB_Global.
func (t *txn) recordOwner(w *desired) {
	if w.name != "" && t.untagged(w.spec.Name) {
		t.setRecord(w.action, recordKey(w.spec.Name, w.name), w.action.M.ID+" "+t.d.cfg.Owner)
	}
}

// dropRecord removes the record of a deleted row.
func (t *txn) dropRecord(o *ownedRow) {
	if r := t.snap.byUUID[o.uuid]; r != nil && r.name() != "" && t.untagged(r.table) {
		t.setRecord(o, recordKey(r.table, r.name()), "")
	}
}
