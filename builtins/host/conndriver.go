package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// nb_connection() and sb_connection() set the Connection rows that the
// NB_Global (SB_Global) row references, as `ovn-nbctl set-connection` does:
// the database's ovsdb-server, started with --remote=db:...,connections,
// then listens on (or connects to) those targets. Rows whose target is
// still wanted are kept, with any setting made by hand (inactivity_probe,
// unless the runbook sets it too); the others are dropped.

func (a *DBConnection) kind() (dbKind, string) {
	if a.DB == "sb" {
		return dbSB, "SB_Global"
	}
	return dbNB, "NB_Global"
}

// liveConn is a Connection row the global row references.
type liveConn struct {
	target string
	probe  *int // inactivity_probe; nil: unset
}

// liveConnections reads the global row and the Connection rows it
// references, by UUID. global is "" when the database has no global row
// yet.
func liveConnections(ctx context.Context, db *ovsdbmodel.DB, globalTable string) (global string, conns map[string]liveConn, err error) {
	globals, err := db.List(ctx, globalTable)
	if err != nil || len(globals) == 0 {
		return "", nil, err
	}
	rows, err := db.List(ctx, "Connection")
	if err != nil {
		return "", nil, err
	}
	byUUID := map[string]liveConn{}
	for _, c := range rows {
		lc := liveConn{target: str(c, "target")}
		// A copy: the cached row may change under it.
		v, _ := ovsdbmodel.Get(c, "inactivity_probe")
		if p, ok := v.(*int); ok && p != nil {
			lc.probe = new(*p)
		}
		byUUID[ovsdbmodel.UUID(c)] = lc
	}
	conns = map[string]liveConn{}
	for _, u := range strSet(globals[0], "connections") {
		conns[u] = byUUID[u]
	}
	return ovsdbmodel.UUID(globals[0]), conns, nil
}

func (d *HostDriver) planConnection(ctx context.Context, h *hostState, a *DBConnection) (interp.Change, error) {
	k, global := a.kind()
	db, err := h.db(ctx, k)
	var nr *notRunningError
	if errors.As(err, &nr) {
		return interp.Change{Action: a, Op: interp.OpCreate, Note: nr.Error() + " yet: planned as if it were empty"}, nil
	}
	if err != nil {
		return interp.Change{}, err
	}
	_, live, err := liveConnections(ctx, db, global)
	if err != nil {
		return interp.Change{}, err
	}
	return connectionChange(a, live), nil
}

// staleProbe reports whether a row the action keeps has another
// inactivity_probe than the action wants.
func staleProbe(a *DBConnection, c liveConn) bool {
	if a.InactivityProbe == nil {
		return false
	}
	return c.probe == nil || *c.probe != *a.InactivityProbe
}

func connectionChange(a *DBConnection, live map[string]liveConn) interp.Change {
	if len(live) == 0 {
		return interp.Change{Action: a, Op: interp.OpCreate}
	}
	want := slices.Sorted(slices.Values(a.Targets))
	rows := slices.SortedFunc(maps.Values(live), func(x, y liveConn) int { return strings.Compare(x.target, y.target) })
	targets := make([]string, len(rows))
	for i, c := range rows {
		targets[i] = c.target
	}
	var diffs []interp.FieldDiff
	if !slices.Equal(targets, want) {
		diffs = append(diffs, interp.FieldDiff{Key: "targets", Old: targets, New: want})
	}
	// The first kept row, by target, whose probe differs; new rows get
	// the wanted one.
	for _, c := range rows {
		if slices.Contains(want, c.target) && staleProbe(a, c) {
			var old any
			if c.probe != nil {
				old = *c.probe
			}
			diffs = append(diffs, interp.FieldDiff{Key: "inactivity_probe", Old: old, New: *a.InactivityProbe})
			break
		}
	}
	if len(diffs) == 0 {
		return interp.Change{Action: a, Op: interp.OpUnchanged}
	}
	return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs}
}

func (d *HostDriver) applyConnection(ctx context.Context, h *hostState, a *DBConnection) (interp.Op, error) {
	k, globalTable := a.kind()
	db, err := h.dbWhenUp(ctx, k)
	if err != nil {
		return "", err
	}
	global, live, err := liveConnections(ctx, db, globalTable)
	if err != nil {
		return "", err
	}
	op := connectionChange(a, live).Op
	if op == interp.OpUnchanged {
		return op, nil
	}
	keep := map[string]string{} // target -> UUID of a row to keep
	for u, c := range live {
		keep[c.target] = u
	}
	var ops []ovsdb.Operation
	var refs []string
	for i, t := range a.Targets {
		if u, ok := keep[t]; ok {
			refs = append(refs, u)
			if staleProbe(a, live[u]) {
				ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Connection", Where: ovsdbmodel.WhereUUID(u),
					Row: ovsdb.Row{"inactivity_probe": *a.InactivityProbe}})
			}
			continue
		}
		named := fmt.Sprintf("conn%d", i)
		row := ovsdb.Row{"target": t}
		if a.InactivityProbe != nil {
			row["inactivity_probe"] = *a.InactivityProbe
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Connection", UUIDName: named, Row: row})
		refs = append(refs, named)
	}
	row := ovsdb.Row{"connections": uuidSet(refs...)}
	if global == "" {
		// Not initialized yet (ovn-northd or `ovn-nbctl init` create it);
		// the table's maxRows of 1 refuses a second one made meanwhile.
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: globalTable, Row: row})
	} else {
		// Unreferenced Connection rows are garbage-collected.
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: globalTable, Where: ovsdbmodel.WhereUUID(global), Row: row})
	}
	if _, err := ovshost.Transact(ctx, db, dbSpecs[k].what, ops...); err != nil {
		return "", err
	}
	// The next plan of this run must see the change.
	return op, settle(ctx, func() (bool, error) {
		_, live, err := liveConnections(ctx, db, globalTable)
		return err == nil && connectionChange(a, live).Op == interp.OpUnchanged, err
	})
}

// settle waits until the client's cache shows a transaction just sent:
// libovsdb updates it asynchronously.
func settle(ctx context.Context, done func() (bool, error)) error {
	err := poll.Until(ctx, settleTimeout, pollEvery, done)
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("the change was committed, but the database did not show it within %s", settleTimeout)
	}
	return err
}
