package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// OVSDriver is the interp.Driver of "ovs" actions: ovs_external_ids(),
// bridge_mappings() and bridge(), applied to the host's Open_vSwitch
// database as ovs-vsctl would, but through libovsdb. It also reads hosts'
// chassis names (external_ids:system-id) for gateway_chassis() and other
// uses of host.chassis.
type OVSDriver struct {
	hs     *Hosts
	closed sync.Once
}

var (
	_ interp.Driver       = (*OVSDriver)(nil)
	_ interp.OutputReader = (*OVSDriver)(nil)
)

// Name implements interp.Driver.
func (d *OVSDriver) Name() string { return "ovs" }

// Close implements interp.Driver. The connections close with the second
// of the two drivers.
func (d *OVSDriver) Close() (err error) {
	d.closed.Do(func() { err = d.hs.release() })
	return err
}

// OutputPrefix makes the engine ask this driver for "host/NAME" futures: a
// host's chassis name lives in its OVS database.
func (d *OVSDriver) OutputPrefix() string { return "host/" }

var _ interp.PrefixReader = (*OVSDriver)(nil)

// ReadOutput implements interp.OutputReader: a host's chassis name.
func (d *OVSDriver) ReadOutput(ctx context.Context, id, attr string) (string, error) {
	return d.hs.readOutput(ctx, id, attr)
}

// Plan implements interp.Driver.
func (d *OVSDriver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	out := make([]interp.Change, len(actions))
	err := d.hs.lanes(ctx, len(actions), func(i int) string { return actions[i].Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			a := actions[i]
			db, err := h.db(ctx, dbOVS)
			var nr *notRunningError
			if errors.As(err, &nr) {
				// Open vSwitch starts earlier in the plan, as in the seed.
				out[i] = interp.Change{Action: a, Op: interp.OpCreate, Note: nr.Error() + " yet: planned as if it were empty"}
				return nil
			}
			if err == nil {
				out[i], err = planOVS(ctx, db, a)
			}
			if err != nil {
				return interp.NewActionError(a, err)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func planOVS(ctx context.Context, db *ovsdbmodel.DB, a interp.Action) (interp.Change, error) {
	s, err := readOVS(ctx, db)
	if err != nil {
		return interp.Change{}, err
	}
	switch a := a.(type) {
	case *ExternalIDs:
		return externalIDsChange(a, s), nil
	case *OVSBridge:
		return bridgeChange(a, s)
	}
	return interp.Change{}, fmt.Errorf("the ovs driver cannot apply %T", a)
}

// Apply implements interp.Driver. Each change is compared with the
// database again, applied in its own transaction, and reported as what that
// comparison found to do. Its outputs include
// the chassis name (system_id of "host/NAME") of every host it touched
// whose runbook does not declare one, so that later actions can use it.
func (d *OVSDriver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	var o outcomes
	err := d.hs.lanes(ctx, len(changes), func(i int) string { return changes[i].Action.Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			c := changes[i]
			if c.Op != interp.OpSkip {
				op, err := applyOVS(ctx, h, c.Action)
				if err != nil {
					return interp.NewActionError(c.Action, err)
				}
				o.done(c.Action.Meta().ID, op)
			}
			if h.systemID == "" {
				if sid, err := h.liveSystemID(ctx); err == nil && sid != "" {
					o.add(h.id(), map[string]string{"system_id": sid})
				}
			}
			return nil
		})
	return o.result(err)
}

// applyOVS converges one action and returns what it did.
func applyOVS(ctx context.Context, h *hostState, a interp.Action) (interp.Op, error) {
	db, err := h.dbWhenUp(ctx, dbOVS)
	if err != nil {
		return "", err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return "", err
	}
	switch a := a.(type) {
	case *ExternalIDs:
		return applyExternalIDs(ctx, h, db, s, a)
	case *OVSBridge:
		return applyBridge(ctx, h, db, s, a)
	}
	return "", fmt.Errorf("the ovs driver cannot apply %T", a)
}

// ovsState is the part of an Open_vSwitch database the driver looks at.
type ovsState struct {
	root        model.Model // the Open_vSwitch row; nil before `ovs-vsctl init`
	bridges     map[string]model.Model
	ports       map[string]model.Model // by UUID
	portsByName map[string]model.Model
	ifaces      map[string]model.Model // by UUID
	portBridge  map[string]string      // port name -> its bridge's name
}

func readOVS(ctx context.Context, db *ovsdbmodel.DB) (*ovsState, error) {
	s := &ovsState{bridges: map[string]model.Model{}, ports: map[string]model.Model{}, portsByName: map[string]model.Model{},
		ifaces: map[string]model.Model{}, portBridge: map[string]string{}}
	tables := map[string][]model.Model{}
	for _, t := range []string{"Open_vSwitch", "Bridge", "Port", "Interface"} {
		rs, err := db.List(ctx, t)
		if err != nil {
			return nil, err
		}
		tables[t] = rs
	}
	if len(tables["Open_vSwitch"]) > 0 {
		s.root = tables["Open_vSwitch"][0]
	}
	for _, p := range tables["Port"] {
		s.ports[ovsdbmodel.UUID(p)] = p
		s.portsByName[str(p, "name")] = p
	}
	for _, i := range tables["Interface"] {
		s.ifaces[ovsdbmodel.UUID(i)] = i
	}
	for _, b := range tables["Bridge"] {
		s.bridges[str(b, "name")] = b
		for _, u := range strSet(b, "ports") {
			if p := s.ports[u]; p != nil {
				s.portBridge[str(p, "name")] = str(b, "name")
			}
		}
	}
	return s, nil
}

func (s *ovsState) externalIDs() map[string]string {
	if s.root == nil {
		return nil
	}
	return strMap(s.root, "external_ids")
}

// changedKeys returns the declared keys whose live value differs. Other
// keys are not ovnrun's (ovs-ctl sets hostname and system-id, users others).
func changedKeys(a *ExternalIDs, live map[string]string) []string {
	var keys []string
	for _, k := range sortedKeys(a.IDs) {
		if old, ok := live[k]; !ok || old != a.IDs[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

func externalIDsChange(a *ExternalIDs, s *ovsState) interp.Change {
	live := s.externalIDs()
	keys := changedKeys(a, live)
	var diffs []interp.FieldDiff
	present := 0
	for _, k := range sortedKeys(a.IDs) {
		if _, ok := live[k]; ok {
			present++
		}
	}
	for _, k := range keys {
		var old any
		if v, ok := live[k]; ok {
			old = v
		}
		diffs = append(diffs, interp.FieldDiff{Key: "external_ids:" + k, Old: old, New: a.IDs[k]})
	}
	switch {
	case len(diffs) == 0:
		return interp.Change{Action: a, Op: interp.OpUnchanged}
	case present == 0:
		return interp.Change{Action: a, Op: interp.OpCreate}
	}
	return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs}
}

func applyExternalIDs(ctx context.Context, h *hostState, db *ovsdbmodel.DB, s *ovsState, a *ExternalIDs) (interp.Op, error) {
	op := externalIDsChange(a, s).Op
	keys := changedKeys(a, s.externalIDs())
	if len(keys) == 0 {
		return op, nil
	}
	set, recs := map[string]string{}, map[string]string{}
	live := s.externalIDs()
	for _, k := range keys {
		set[k] = a.IDs[k]
		// What the key held before ovnrun first changed it; a record
		// already there (an earlier apply) is kept by the insert.
		recs[h.hs.recordKey(recExternalID, k)] = created
		if old, ok := live[k]; ok {
			recs[h.hs.recordKey(recExternalID, k)] = was(old)
		}
	}
	txs := []ovsdb.Operation{}
	if s.root == nil {
		// As ovs-vsctl does on a database no one initialized.
		all := maps.Clone(set)
		maps.Copy(all, recs)
		txs = append(txs, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Open_vSwitch", Row: ovsdb.Row{"external_ids": stringMap(all)}})
	} else {
		// A map insert keeps an existing key's value: delete the keys first.
		txs = append(txs, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(s.root)),
			Mutations: []ovsdb.Mutation{
				{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: stringSet(keys...)},
				{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: stringMap(set)},
			}}, recordMutation(s.root, recs))
	}
	if _, err := ovshost.Transact(ctx, db, "Open_vSwitch", txs...); err != nil {
		return "", err
	}
	return op, settle(ctx, func() (bool, error) {
		s, err := readOVS(ctx, db)
		return err == nil && len(changedKeys(a, s.externalIDs())) == 0, err
	})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// id is the ID futures use for the host (interp.Host.ID).
func (h *hostState) id() string { return "host/" + h.name }

// liveSystemID reads the host's external_ids:system-id.
func (h *hostState) liveSystemID(ctx context.Context) (string, error) {
	db, err := h.db(ctx, dbOVS)
	if err != nil {
		return "", err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return "", err
	}
	return s.externalIDs()["system-id"], nil
}

// systemIDWait bounds waiting for a system-id: ovs-ctl sets it right
// after starting ovsdb-server.
const systemIDWait = 5 * time.Second

// readOutput resolves "host/NAME" "system_id": the chassis name the
// runbook declares, else the host's external_ids:system-id.
func (hs *Hosts) readOutput(ctx context.Context, id, attr string) (string, error) {
	name, ok := strings.CutPrefix(id, "host/")
	if !ok || attr != "system_id" {
		return "", fmt.Errorf("host drivers have no output %s of %s", attr, id)
	}
	h, err := hs.host(name)
	if err != nil {
		return "", err
	}
	if h.systemID != "" {
		return h.systemID, nil
	}
	var sid string
	err = poll.Until(ctx, systemIDWait, pollEvery, func() (bool, error) {
		sid, err = h.liveSystemID(ctx)
		return sid != "", err
	})
	switch {
	case errors.Is(err, poll.ErrTimeout):
		return "", fmt.Errorf("host %s: its chassis name is unknown: Open_vSwitch external_ids:system-id is not set; "+
			"declare it with host(%q, system_id=...) or set it with ovs_external_ids()", name, name)
	case err != nil:
		return "", fmt.Errorf("host %s: cannot read its chassis name (external_ids:system-id): %w", name, err)
	}
	return sid, nil
}

// KnownChassis reads, without changing anything, the chassis name of every
// host whose runbook does not declare one and that a future of plan names
// (gateway_chassis(lrp, h0) with h0's system_id left to the host). A run
// passes the result to interp.WithOutputs before planning, so that a plan
// against an already configured lab compares real chassis names instead of
// showing "(known after apply)". Hosts that cannot be read yet (Open
// vSwitch not running) are left out: their names are read during apply.
func (d *OVSDriver) KnownChassis(ctx context.Context, plan *interp.Plan) interp.Outputs {
	out := interp.Outputs{}
	for _, name := range chassisFutures(plan) {
		h, err := d.hs.host(name)
		if err != nil || h.systemID != "" {
			continue
		}
		if sid, err := h.liveSystemID(ctx); err == nil && sid != "" {
			out[h.id()] = map[string]string{"system_id": sid}
		}
	}
	return out
}

// chassisFutures returns the hosts whose chassis name a field of the plan
// awaits, sorted.
func chassisFutures(plan *interp.Plan) []string {
	seen := map[string]bool{}
	for _, s := range plan.Steps {
		for _, a := range s.Actions {
			for _, f := range a.Fields() {
				if fu, ok := f.Value.(*interp.Future); ok && fu.Attr == "system_id" && strings.HasPrefix(fu.From, "host/") {
					seen[strings.TrimPrefix(fu.From, "host/")] = true
				}
			}
		}
	}
	return sortedKeys(boolKeys(seen))
}

func boolKeys(m map[string]bool) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = ""
	}
	return out
}
