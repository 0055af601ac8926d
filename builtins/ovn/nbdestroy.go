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
	declared := map[string]interp.Action{}
	for _, a := range actions {
		declared[a.Meta().ID] = a
	}
	var out []interp.Change
	for i := len(tables) - 1; i >= 0; i-- {
		t := tables[i]
		ids := make([]string, 0, len(s.owned[t.name]))
		for id := range s.owned[t.name] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			r := s.owned[t.name][id]
			name := r.name()
			if name == "" {
				name = strings.TrimPrefix(id, t.kind+"/")
			}
			o := &ownedRow{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: id, Kind: t.kind, Name: name,
				Driver: driverName, Step: "destroy"}}, table: t.name, uuid: r.uuid}
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
	return out, nil
}

// keepReason says why an owned row must not be deleted: it holds children
// or is referenced by ports that another tool created.
func (s *snapshot) keepReason(r *liveRow) string {
	for _, t := range tables {
		if t.parent == nil || t.parent.table != r.table {
			continue
		}
		for _, child := range r.refs(t.parent.column) {
			if c := s.byUUID[child]; c != nil && !s.ownedByUs(c) {
				return fmt.Sprintf("it holds %s %s, which this runbook did not create", t.name, describe(c))
			}
		}
	}
	if r.table == specDHCP.name {
		for _, p := range s.byTable[specSwitchPort.name] {
			if s.ownedByUs(p) {
				continue
			}
			for _, c := range dhcpRefColumns {
				for _, u := range p.refs(c) {
					if u == r.uuid {
						return fmt.Sprintf("Logical_Switch_Port %q, which this runbook did not create, uses it", p.name())
					}
				}
			}
		}
	}
	return ""
}

func describe(r *liveRow) string {
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
	return r != nil && s.ownedByUs(r)
}

// buildDeletes deletes the rows still present and still this runbook's,
// and removes them from parents that stay.
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
		if p := t.snap.parentOf[o.uuid]; p != nil && !gone[p.uuid] {
			for _, spec := range tables {
				if spec.name == o.table && spec.parent != nil {
					rc := t.ref(refKey{p.table, p.uuid, spec.parent.column}, o)
					rc.remove = append(rc.remove, o.uuid)
				}
			}
		}
		t.emit(o, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: o.table, Where: ovsdbmodel.WhereUUID(o.uuid)})
		t.deleted = append(t.deleted, o.uuid)
	}
}

// destroyOrder places an NB action in an offline destroy where PlanDestroy
// puts its row: tables children first, then by action ID.
func destroyOrder(a interp.Action) (int, string) {
	m := a.Meta()
	for i, t := range tables {
		if t.kind == m.Kind {
			return len(tables) - 1 - i, m.ID
		}
	}
	return len(tables), m.ID
}
