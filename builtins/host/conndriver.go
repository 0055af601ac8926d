package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

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
// still wanted are kept, with any setting made by hand (inactivity_probe...);
// the others are dropped.

func (a *DBConnection) kind() (dbKind, string) {
	if a.DB == "sb" {
		return dbSB, "SB_Global"
	}
	return dbNB, "NB_Global"
}

// liveConnections reads the global row and the targets it references, by
// Connection UUID. global is "" when the database has no global row yet.
func liveConnections(ctx context.Context, db *ovsdbmodel.DB, globalTable string) (global string, targets map[string]string, err error) {
	globals, err := db.List(ctx, globalTable)
	if err != nil || len(globals) == 0 {
		return "", nil, err
	}
	conns, err := db.List(ctx, "Connection")
	if err != nil {
		return "", nil, err
	}
	byUUID := map[string]string{}
	for _, c := range conns {
		byUUID[ovsdbmodel.UUID(c)] = str(c, "target")
	}
	targets = map[string]string{}
	for _, u := range strSet(globals[0], "connections") {
		targets[u] = byUUID[u]
	}
	return ovsdbmodel.UUID(globals[0]), targets, nil
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
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
	return connectionChange(a, sortedValues(live)), nil
}

func connectionChange(a *DBConnection, live []string) interp.Change {
	want := slices.Sorted(slices.Values(a.Targets))
	switch {
	case slices.Equal(live, want):
		return interp.Change{Action: a, Op: interp.OpUnchanged}
	case len(live) == 0:
		return interp.Change{Action: a, Op: interp.OpCreate}
	}
	return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: []interp.FieldDiff{{Key: "targets", Old: live, New: want}}}
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
	op := connectionChange(a, sortedValues(live)).Op
	if op == interp.OpUnchanged {
		return op, nil
	}
	keep := map[string]string{} // target -> UUID of a row to keep
	for u, t := range live {
		keep[t] = u
	}
	var ops []ovsdb.Operation
	var refs []string
	for i, t := range a.Targets {
		if u, ok := keep[t]; ok {
			refs = append(refs, u)
			continue
		}
		named := fmt.Sprintf("conn%d", i)
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Connection", UUIDName: named, Row: ovsdb.Row{"target": t}})
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
		return err == nil && connectionChange(a, sortedValues(live)).Op == interp.OpUnchanged, err
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
