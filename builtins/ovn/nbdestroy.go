package ovn

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// ownedRow is a row this runbook created, found by its ownership tag: the
// action that destroy deletes. It need not be declared by the runbook any
// more (a switch removed from the runbook is still destroyed).
type ownedRow struct {
	interp.ActionMeta
	table string
	uuid  string
}

func (o *ownedRow) Fields() []interp.Field {
	return []interp.Field{interp.F("table", o.table), interp.F("_uuid", o.uuid)}
}

// PlanDestroy lists, children first, every row carrying this runbook's
// ownership tag, as OpDelete changes. actions, the plan's actions (may be
// nil), give the rows their runbook positions. A row that holds or is
// referenced by rows another tool created is kept (OpUnchanged with a note):
// deleting it would delete or modify them.
func (d *NBDriver) PlanDestroy(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return d.planDeletes(s, actions, "destroy", nil), nil
}

// PlanPrune lists, as PlanDestroy does, the rows of this runbook that no
// action of declared (the whole plan) has any more: neither by its action
// ID nor by a name that a declared action finds it by, nor as the row the
// plan compared a declared action with (a row a declared action takes over
// under a new ID is the action's, not a leftover).
func (d *NBDriver) PlanPrune(ctx context.Context, declared []interp.Action) ([]interp.Change, error) {
	s, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if len(destroyTables(s)) == 0 {
		// Nothing of this runbook's is in the NB (a first apply): nothing
		// to prune, and no need to index 11,000 declared actions to say so.
		return nil, nil
	}
	names := map[string]bool{} // table + "\x00" + name of declared rows of named tables
	for _, a := range declared {
		if r, ok := a.(*Row); ok && r.T.named() {
			names[r.T.Name+"\x00"+r.M.Name] = true
		}
	}
	matched := map[string]bool{} // rows the plan's comparisons found for declared actions
	if d.diffOf == s {
		for _, rp := range d.diffs {
			if rp.live != nil {
				matched[rp.live.uuid] = true
			}
		}
	}
	return d.planDeletes(s, declared, "prune", func(r *liveRow) bool {
		return matched[r.uuid] || names[r.table+"\x00"+r.name()]
	}), nil
}

// planDeletes lists the deletions of the rows of this runbook, children
// first, in step. With found (a prune) only the rows of undeclared actions
// that found does not say a declared action uses are listed. A row with
// the legacy tag is listed only when declared.
func (d *NBDriver) planDeletes(s *snapshot, actions []interp.Action, step string, found func(r *liveRow) bool) []interp.Change {
	declared := make(map[string]interp.Action, len(actions))
	for _, a := range actions {
		declared[a.Meta().ID] = a
	}
	var out []interp.Change
	legacy := 0 // rows with the legacy tag and no declaration, left
	for _, table := range destroyTables(s) {
		ids := make([]string, 0, len(s.owned[table]))
		for id, r := range s.owned[table] {
			if found == nil || declared[id] == nil && !found(r) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		kind := strings.ToLower(table)
		for _, id := range ids {
			r := s.owned[table][id]
			if s.claimed[r.uuid] && declared[id] == nil {
				legacy++
				continue
			}
			name := r.name()
			if name == "" {
				name = strings.TrimPrefix(id, kind+"/")
			}
			o := &ownedRow{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: id, Kind: kind, Name: name,
				Driver: driverName, Step: step}}, table: table, uuid: r.uuid}
			c := interp.Change{Action: o, Op: interp.OpDelete}
			if a := declared[id]; a != nil {
				o.M.Stack = a.Meta().Stack
			} else {
				c.Note = "created by this runbook, no longer declared in it"
			}
			if why := s.keepReason(r); why != "" {
				c.Op, c.Note = interp.OpUnchanged, "kept: "+why
			}
			out = append(out, c)
		}
	}
	if legacy > 0 {
		fmt.Fprintf(d.cfg.Log, "nb: note: %d rows carry the tag %q that older ovnrun wrote for this runbook and are no longer declared: "+
			"left, since a copy of the runbook elsewhere may own them (--owner %s removes them)\n", legacy, s.legacy, s.legacy)
	}
	return out
}

// destroyTables lists the tables holding rows of this runbook, children
// first: described tables in reverse ordered() order, others first.
func destroyTables(s *snapshot) []string {
	var names []string
	for table, rows := range s.owned {
		if len(rows) > 0 {
			names = append(names, table)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := tableRank(names[i]), tableRank(names[j])
		if ri != rj {
			return ri > rj
		}
		return names[i] < names[j]
	})
	return names
}

// keepReason says why an owned row must not be deleted: it holds rows that
// another tool created and that would go with it (strong references to a
// non-root table), or a row another tool created uses it through a column
// other than those through which ovnrun links its rows (deleting it would
// fail, or change that row).
func (s *snapshot) keepReason(r *liveRow) string {
	for c, rc := range s.refCols[r.table] {
		if !rc.strong || s.isRoot(rc.table) {
			continue
		}
		for _, child := range r.refs(c) {
			if ch := s.byUUID[child]; ch != nil && !s.ownedByUs(ch) {
				return fmt.Sprintf("it holds %s %s, which this runbook did not create", ch.table, describeRow(ch))
			}
		}
	}
	t := tableNamed(r.table)
	for _, p := range s.referrers[r.uuid] {
		if s.ownedByUs(p.row) || (t != nil && t.ref(p.row.table, p.column) != nil) {
			continue
		}
		return fmt.Sprintf("%s %s, which this runbook did not create, uses it (%s)", p.row.table, describeRow(p.row), p.column)
	}
	return ""
}

// isRoot reports whether the schema makes table a root table: its rows
// live without being referenced.
func (s *snapshot) isRoot(table string) bool { return s.roots[table] }

func describeRow(r *liveRow) string {
	if n := r.name(); n != "" {
		return fmt.Sprintf("%q", n)
	}
	return r.uuid
}

// destroy takes a delete into the transaction.
func (t *txn) destroy(a interp.Action) error {
	o, ok := a.(*ownedRow)
	if !ok {
		m := a.Meta()
		return fmt.Errorf("nb: %s %s: delete is planned by PlanDestroy only", m.Kind, m.Name)
	}
	t.dels = append(t.dels, o)
	return nil
}

// deletable reports whether o's row is still there and still this
// runbook's: deleting it is what destroy does.
func (s *snapshot) deletable(o *ownedRow) bool {
	r := s.byUUID[o.uuid]
	// The action too: an earlier step of a run that prunes may have taken
	// the row over for a declared action.
	return r != nil && s.ownedByUs(r) && r.action == o.M.ID
}

// buildDeletes deletes the rows still present and still this runbook's,
// and removes the references to them from rows that stay.
func (t *txn) buildDeletes() {
	gone := map[string]bool{}
	for _, o := range t.dels {
		if t.snap.deletable(o) {
			gone[o.uuid] = true
		}
	}
	for _, o := range t.dels {
		if !gone[o.uuid] {
			continue
		}
		for _, p := range t.snap.referrers[o.uuid] {
			if !gone[p.row.uuid] && !t.snap.refCols[p.row.table][p.column].inMap {
				rc := t.ref(refKey{p.row.table, p.row.uuid, p.column}, o)
				rc.remove = append(rc.remove, o.uuid)
			}
		}
		t.emit(o, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: o.table, Where: ovsdbmodel.WhereUUID(o.uuid)})
		if t.d.untagged(o.table) {
			t.ledgerDel(o)
		}
		t.deleted = append(t.deleted, o.uuid)
	}
}

// destroyOrder places an NB action in an offline destroy where PlanDestroy
// puts its row: children first, then by action ID.
func destroyOrder(a interp.Action) (int, string) {
	m := a.Meta()
	rank := len(tables)
	if r, ok := a.(*Row); ok {
		rank = tableRank(r.T.Name)
	}
	return len(tables) - rank, m.ID
}
