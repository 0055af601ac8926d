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
	"github.com/ovnrun/ovnrun/interp"
)

// bridge() converges a bridge like `ovs-vsctl --may-exist add-br` and
// `--may-exist add-port`: the bridge with its internal port, the declared
// ports and the datapath type. Ports it does not declare are left alone:
// ovn-controller adds patch ports to the bridges of bridge mappings.

// bridgePorts returns the names of a live bridge's ports, sorted.
func (s *ovsState) bridgePorts(bridge string) []string {
	var names []string
	if b := s.bridges[bridge]; b != nil {
		for _, u := range strSet(b, "ports") {
			if p := s.ports[u]; p != nil {
				names = append(names, str(p, "name"))
			}
		}
	}
	sort.Strings(names)
	return names
}

// missingPorts returns the declared ports the bridge lacks, refusing a port
// that another bridge holds: moving it could cut a host off its network.
func missingPorts(a *OVSBridge, s *ovsState) ([]string, error) {
	var missing []string
	for _, p := range a.Ports {
		switch br, ok := s.portBridge[p]; {
		case !ok:
			missing = append(missing, p)
		case br != a.Bridge:
			return nil, fmt.Errorf("port %s is on bridge %s; ovnrun does not move ports between bridges (remove it there first)", p, br)
		}
	}
	return missing, nil
}

func bridgeChange(a *OVSBridge, s *ovsState) (interp.Change, error) {
	missing, err := missingPorts(a, s)
	if err != nil {
		return interp.Change{}, err
	}
	b := s.bridges[a.Bridge]
	if b == nil {
		return interp.Change{Action: a, Op: interp.OpCreate}, nil
	}
	var diffs []interp.FieldDiff
	if dp := str(b, "datapath_type"); a.DatapathType != "" && dp != a.DatapathType {
		diffs = append(diffs, interp.FieldDiff{Key: "datapath_type", Old: dp, New: a.DatapathType})
	}
	if len(missing) > 0 {
		live := s.bridgePorts(a.Bridge)
		diffs = append(diffs, interp.FieldDiff{Key: "ports", Old: live, New: slices.Sorted(slices.Values(append(live, missing...)))})
	}
	if len(diffs) == 0 {
		return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
	}
	return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs}, nil
}

// newBridgeDatapath is the datapath type of a bridge about to be created:
// the declared one, else the one ovn-controller gives br-int
// (external_ids:ovn-bridge-datapath-type, set on hosts with a userspace
// datapath): a bridge of bridge_mappings joins br-int through patch ports,
// which only work between bridges of one datapath.
func newBridgeDatapath(a *OVSBridge, s *ovsState) string {
	if a.DatapathType != "" {
		return a.DatapathType
	}
	return s.externalIDs()["ovn-bridge-datapath-type"]
}

// bridgeOps builds the operations of one bridge change.
type bridgeOps struct {
	ops []ovsdb.Operation
	n   int
}

// port adds a port with its one interface and returns its named UUID.
func (b *bridgeOps) port(name, ifType string) string {
	b.n++
	iface, port := fmt.Sprintf("iface%d", b.n), fmt.Sprintf("port%d", b.n)
	row := ovsdb.Row{"name": name}
	if ifType != "" {
		row["type"] = ifType
	}
	b.ops = append(b.ops,
		ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Interface", UUIDName: iface, Row: row},
		ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Port", UUIDName: port, Row: ovsdb.Row{"name": name, "interfaces": uuidSet(iface)}})
	return port
}

func applyBridge(ctx context.Context, h *hostState, db *ovsdbmodel.DB, s *ovsState, a *OVSBridge) (interp.Op, error) {
	c, err := bridgeChange(a, s)
	if err != nil || c.Op == interp.OpUnchanged {
		return c.Op, err
	}
	missing, _ := missingPorts(a, s)
	var b bridgeOps
	recs := map[string]string{} // undo records of what this changes
	if live := s.bridges[a.Bridge]; live == nil {
		recs[h.hs.recordKey(recBridge, a.Bridge)] = created
		ports := []string{b.port(a.Bridge, "internal")}
		for _, p := range a.Ports {
			ports = append(ports, b.port(p, ""))
		}
		row := ovsdb.Row{"name": a.Bridge, "ports": uuidSet(ports...)}
		if dp := newBridgeDatapath(a, s); dp != "" {
			row["datapath_type"] = dp
		}
		b.ops = append(b.ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Bridge", UUIDName: "bridge", Row: row})
		if s.root == nil {
			b.ops = append(b.ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Open_vSwitch",
				Row: ovsdb.Row{"bridges": uuidSet("bridge"), "external_ids": stringMap(recs)}})
		} else {
			b.ops = append(b.ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(s.root)),
				Mutations: []ovsdb.Mutation{{Column: "bridges", Mutator: ovsdb.MutateOperationInsert, Value: uuidSet("bridge")}}})
		}
	} else {
		uuid := ovsdbmodel.UUID(live)
		if a.DatapathType != "" && str(live, "datapath_type") != a.DatapathType {
			recs[h.hs.recordKey(recDatapath, a.Bridge)] = was(str(live, "datapath_type"))
			b.ops = append(b.ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(uuid), Row: ovsdb.Row{"datapath_type": a.DatapathType}})
		}
		var ports []string
		for _, p := range missing {
			ports = append(ports, b.port(p, ""))
			recs[h.hs.recordKey(recPort, p)] = a.Bridge
		}
		if len(ports) > 0 {
			b.ops = append(b.ops, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(uuid),
				Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: uuidSet(ports...)}}})
		}
	}
	cfgAt := -1
	if s.root != nil {
		b.ops = append(b.ops, recordMutation(s.root, recs))
		// Like ovs-vsctl without --no-wait: ask ovs-vswitchd to report
		// when it has applied this, so the next command finds the bridge.
		root := ovsdbmodel.WhereUUID(ovsdbmodel.UUID(s.root))
		b.ops = append(b.ops,
			ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: root,
				Mutations: []ovsdb.Mutation{{Column: "next_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
			ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Open_vSwitch", Where: root, Columns: []string{"next_cfg"}})
		cfgAt = len(b.ops) - 1
	}
	res, err := ovshost.Transact(ctx, db, "bridge "+a.Bridge, b.ops...)
	if err != nil {
		return "", err
	}
	err = settle(ctx, func() (bool, error) {
		s, err := readOVS(ctx, db)
		if err != nil {
			return false, err
		}
		c, err := bridgeChange(a, s)
		return c.Op == interp.OpUnchanged, err
	})
	if err != nil || cfgAt < 0 || len(res[cfgAt].Rows) == 0 {
		return c.Op, err
	}
	waitVswitchd(ctx, h, res[cfgAt].Rows[0]["next_cfg"])
	return c.Op, nil
}

// waitVswitchd waits until ovs-vswitchd reports cur_cfg >= next. Without
// ovs-vswitchd running it never does: that is worth a note, not a failure,
// since the database holds the bridge either way.
func waitVswitchd(ctx context.Context, h *hostState, next any) {
	c, err := h.ovs(ctx)
	if err == nil && errors.Is(c.WaitVswitchd(ctx, next), ovshost.ErrVswitchdLate) {
		h.logf("ovs-vswitchd has not applied the bridge change within %s; is it running?", ovshost.Wait)
	}
}
