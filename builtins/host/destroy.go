package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// A destroy undoes, host by host, what the undo records (undo.go) of the
// runbook's owner say ovnrun did there, and nothing else: routes and
// addresses first, then ports and bridges, then external_ids keys, and the
// services it started last, latest started first, so that nothing stops
// under what is still being undone.

// Undo is the undoing of one record: an action of a destroy plan only.
type Undo struct {
	interp.ActionMeta
	rec  undoRecord
	rank int
	// current is the live value an external_ids key, datapath type or
	// route has now, for the plan's diff.
	current string
}

// Fields implements interp.Action.
func (u *Undo) Fields() []interp.Field {
	old, replaced := u.rec.earlier()
	switch u.rec.kind {
	case recExternalID:
		return []interp.Field{interp.F("key", u.rec.what)}
	case recPort:
		return []interp.Field{interp.F("port", u.rec.what), interp.F("bridge", u.rec.value)}
	case recBridge, recDatapath:
		return []interp.Field{interp.F("bridge", u.rec.what)}
	case recRoute:
		if replaced {
			via, dev, _ := strings.Cut(old, " ")
			return []interp.Field{interp.F("prefix", u.rec.what), interp.F("via", via), interp.F("dev", dev)}
		}
		return []interp.Field{interp.F("prefix", u.rec.what)}
	case recAddress:
		dev, addr, _ := strings.Cut(u.rec.what, " ")
		return []interp.Field{interp.F("address", addr), interp.F("dev", dev)}
	case recService:
		return []interp.Field{interp.F("unit", u.rec.what)}
	}
	return nil
}

// undoRanks orders a host's undoing by kind.
var undoRanks = map[string]int{recRoute: 0, recAddress: 1, recPort: 2, recDatapath: 3, recBridge: 3, recExternalID: 4, recService: 5}

// undoKinds are the plan's names of what is undone, by record kind.
var undoKinds = map[string]string{recExternalID: "ovs_external_ids", recBridge: "ovs_bridge", recPort: "ovs_port",
	recDatapath: "ovs_bridge_datapath_type", recRoute: "ip_route", recAddress: "ip_address", recService: "service"}

// PlanDestroy implements engine.Destroyer: it reads the undo records of
// the hosts that the plan's host and ovs actions name and plans undoing
// them. A host whose Open vSwitch database is not running has no records
// to read: a note says so.
func (d *HostDriver) PlanDestroy(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	return d.planUndos(ctx, actions)
}

// planUndos plans undoing the records of the hosts that actions name and
// of the held hosts the runbook still declares; the others are noted as
// left, as nothing says how to reach them.
func (d *HostDriver) planUndos(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	hosts := d.undoHosts(actions)
	out := make([][]interp.Change, len(hosts))
	err := d.hs.lanes(ctx, len(hosts), func(i int) string { return hosts[i] },
		func(ctx context.Context, h *hostState, i int) error {
			cs, err := h.planUndo(ctx, actions)
			if err != nil {
				return fmt.Errorf("host %s: reading what ovnrun did there: %w", h.name, err)
			}
			out[i] = cs
			return nil
		})
	if err != nil {
		return nil, err
	}
	var all []interp.Change
	for _, cs := range out {
		all = append(all, cs...)
	}
	return all, nil
}

// undoHosts returns the hosts of the host domain's actions and the held
// hosts that the runbook declares, sorted.
func (d *HostDriver) undoHosts(actions []interp.Action) []string {
	seen := map[string]bool{}
	for _, a := range actions {
		if m := a.Meta(); m.Host != "" && (m.Driver == "host" || m.Driver == "ovs") {
			seen[m.Host] = true
		}
	}
	for _, h := range d.hs.cfg.HeldHosts {
		if _, ok := d.hs.hosts[h]; ok {
			seen[h] = true
		} else if !seen[h] {
			d.hs.log.printf("[%s] note: the last run changed settings on this host, which the runbook no longer declares: they are left (docs/ownership.md)", h)
		}
	}
	return sortedKeys(boolKeys(seen))
}

// Owned returns the undoing of every record the run's owner has on host,
// in the order a destroy applies them. A prune keeps those whose Undo no
// action of the runbook Declares, and applies them with this driver.
func (d *HostDriver) Owned(ctx context.Context, host string) ([]interp.Change, error) {
	h, err := d.hs.host(host)
	if err != nil {
		return nil, err
	}
	return h.planUndo(ctx, nil)
}

// planUndo plans undoing the host's records; each undoing is shown at the
// action among actions that declares its setting, if any.
func (h *hostState) planUndo(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	db, err := h.db(ctx, dbOVS)
	var nr *notRunningError
	if errors.As(err, &nr) {
		h.logf("%v: no record of what ovnrun did there to undo", nr)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return nil, err
	}
	var undos []*Undo
	for _, r := range records(h.hs.cfg.Owner, s.externalIDs()) {
		kind, ok := undoKinds[r.kind]
		if !ok {
			continue // written by a newer ovnrun
		}
		u := &Undo{rec: r, rank: undoRanks[r.kind]}
		name := h.name + "/" + r.what
		u.M = interp.Meta{ID: "undo/" + kind + "/" + name, Kind: kind, Name: name, Driver: "host", Host: h.name, Step: "destroy"}
		for _, a := range actions {
			if u.Declares(a) {
				u.M.Stack = a.Meta().Stack
				break
			}
		}
		undos = append(undos, u)
	}
	sort.SliceStable(undos, func(i, j int) bool {
		a, b := undos[i], undos[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.rec.kind == recService {
			return a.rec.value > b.rec.value // the latest started first
		}
		return false
	})
	cs := make([]interp.Change, len(undos))
	for i, u := range undos {
		if cs[i], err = h.undoChange(ctx, s, u); err != nil {
			return nil, err
		}
		if len(u.M.Stack) == 0 && actions != nil {
			cs[i].Note = strings.TrimPrefix(cs[i].Note+"; "+pruneNote, "; ")
		}
	}
	return cs, nil
}

// undoChange plans one undoing: a restored value is an update, the rest
// deletions.
func (h *hostState) undoChange(ctx context.Context, s *ovsState, u *Undo) (interp.Change, error) {
	c := interp.Change{Action: u, Op: interp.OpDelete}
	old, replaced := u.rec.earlier()
	switch u.rec.kind {
	case recExternalID:
		if replaced {
			c.Op, c.Diffs = interp.OpUpdate, []interp.FieldDiff{{Key: "external_ids:" + u.rec.what, Old: s.externalIDs()[u.rec.what], New: old}}
		}
	case recDatapath:
		if b := s.bridges[u.rec.what]; b != nil {
			c.Op, c.Diffs = interp.OpUpdate, []interp.FieldDiff{{Key: "datapath_type", Old: str(b, "datapath_type"), New: old}}
		}
	case recRoute:
		if replaced {
			c.Op, c.Note = interp.OpUpdate, "restores the route ovnrun replaced"
		}
	case recService:
		state, err := h.serviceState(ctx, u.rec.what)
		if err != nil {
			return c, err
		}
		c.Note = "ovnrun started it; it is " + state
	}
	return c, nil
}

// applyUndo undoes one record and drops it. Something already gone is
// not an error: the record is dropped all the same.
func (d *HostDriver) applyUndo(ctx context.Context, h *hostState, u *Undo) (interp.Op, error) {
	db, err := h.dbWhenUp(ctx, dbOVS)
	if err != nil {
		return "", err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return "", err
	}
	if _, ok := s.externalIDs()[u.rec.key]; !ok || s.root == nil {
		return interp.OpUnchanged, nil // undone since the plan
	}
	op := interp.OpDelete
	if _, replaced := u.rec.earlier(); replaced && u.rec.kind != recAddress {
		op = interp.OpUpdate
	}
	ops := u.ovsOps(s)
	if u.rec.kind == recService {
		// Dropped before the stop: stopping Open vSwitch itself takes
		// the records with it.
		if _, err := ovshost.Transact(ctx, db, "undo record", dropRecord(s.root, u.rec.key)); err != nil {
			return "", err
		}
		return op, h.stopStarted(ctx, u.rec.what)
	}
	if err := h.undoCommand(ctx, u); err != nil {
		return "", err
	}
	ops = append(ops, dropRecord(s.root, u.rec.key))
	if _, err := ovshost.Transact(ctx, db, "undo "+u.M.Kind+" "+u.rec.what, ops...); err != nil {
		return "", err
	}
	return op, settle(ctx, func() (bool, error) {
		s, err := readOVS(ctx, db)
		if err != nil {
			return false, err
		}
		_, ok := s.externalIDs()[u.rec.key]
		return !ok, nil
	})
}

// ovsOps are the operations that undo a record of the Open vSwitch
// database, given its state now.
func (u *Undo) ovsOps(s *ovsState) []ovsdb.Operation {
	root := ovsdbmodel.WhereUUID(ovsdbmodel.UUID(s.root))
	old, replaced := u.rec.earlier()
	switch u.rec.kind {
	case recExternalID:
		ops := []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: root,
			Mutations: []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: stringSet(u.rec.what)}}}}
		if replaced {
			ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: root,
				Mutations: []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: stringMap(map[string]string{u.rec.what: old})}}})
		}
		return ops
	case recBridge:
		if b := s.bridges[u.rec.what]; b != nil {
			// Its ports and interfaces go with it (garbage-collected).
			return []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: root,
				Mutations: []ovsdb.Mutation{{Column: "bridges", Mutator: ovsdb.MutateOperationDelete, Value: uuidSet(ovsdbmodel.UUID(b))}}}}
		}
	case recPort:
		p, br := s.portsByName[u.rec.what], s.bridges[u.rec.value]
		if p != nil && br != nil && s.portBridge[u.rec.what] == u.rec.value {
			return []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(br)),
				Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationDelete, Value: uuidSet(ovsdbmodel.UUID(p))}}}}
		}
	case recDatapath:
		if b := s.bridges[u.rec.what]; b != nil {
			return []ovsdb.Operation{{Op: ovsdb.OperationUpdate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(b)),
				Row: ovsdb.Row{"datapath_type": old}}}
		}
	}
	return nil
}

// undoCommand undoes a route or an address with iproute2.
func (h *hostState) undoCommand(ctx context.Context, u *Undo) error {
	switch u.rec.kind {
	case recRoute:
		old, replaced := u.rec.earlier()
		argv := []string{"ip", "route", "del", u.rec.what}
		if replaced {
			via, dev, _ := strings.Cut(old, " ")
			argv = []string{"ip", "route", "replace", u.rec.what, "via", via}
			if dev != "" {
				argv = append(argv, "dev", dev)
			}
		}
		return h.runTolerant(ctx, argv, "No such process")
	case recAddress:
		dev, addr, _ := strings.Cut(u.rec.what, " ")
		return h.runTolerant(ctx, []string{"ip", "addr", "del", addr, "dev", dev}, "Cannot assign requested address", "does not exist")
	}
	return nil
}

// runTolerant runs argv; a failure whose message says the thing is gone
// already is no error.
func (h *hostState) runTolerant(ctx context.Context, argv []string, gone ...string) error {
	r, err := h.run(ctx, remote.Argv(argv...).WithTimeout(checkTimeout))
	if err != nil || r.Status == 0 {
		return err
	}
	for _, g := range gone {
		if strings.Contains(r.Stderr, g) {
			return nil
		}
	}
	return r.Err()
}

// stopStarted stops a unit ovnrun started, if it still runs.
func (h *hostState) stopStarted(ctx context.Context, unit string) error {
	state, err := h.serviceState(ctx, unit)
	if err != nil || state == "inactive" || state == "failed" {
		return err
	}
	_, err = h.output(ctx, remote.Argv("systemctl", "stop", unit).WithTimeout(serviceTimeout))
	return err
}

// Declares reports whether action a declares the setting u undoes: a prune
// undoes only what no action of the runbook declares any longer.
func (u *Undo) Declares(a interp.Action) bool {
	if a.Meta().Host != u.M.Host {
		return false
	}
	switch a := a.(type) {
	case *ExternalIDs:
		_, ok := a.IDs[u.rec.what]
		return u.rec.kind == recExternalID && ok
	case *OVSBridge:
		switch u.rec.kind {
		case recBridge:
			return a.Bridge == u.rec.what
		case recDatapath:
			return a.Bridge == u.rec.what && a.DatapathType != ""
		case recPort:
			return a.Bridge == u.rec.value && slices.Contains(a.Ports, u.rec.what)
		}
	case *Route:
		return u.rec.kind == recRoute && a.Prefix.String() == u.rec.what
	case *IPAddress:
		return u.rec.kind == recAddress && a.Dev+" "+a.Addr.String() == u.rec.what
	case *Service:
		return u.rec.kind == recService && a.Unit == u.rec.what && wantActive(a.State)
	}
	return false
}
