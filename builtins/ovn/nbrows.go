package ovn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ovnrun/ovnrun/interp"
)

// tableSpec says how ovnrun manages the rows of one NB table.
type tableSpec struct {
	name  string // NB table
	kind  string // action kind
	named bool   // identified by the name column
	// columns are the columns ovnrun manages, in diff order. The name
	// column, when named, is identity and never changes.
	columns []string
	// read are columns ovnrun reads but never writes: what ovn-northd
	// fills in, and what the graph of a live NB shows.
	read []string
	// parent is the column of another table that must reference the row
	// (non-root tables are garbage-collected without it); nil for root rows.
	parent *parentSpec
	// natural are the columns that identify an unnamed row on its parent,
	// for spotting a conflicting row made by another tool.
	natural []string
}

type parentSpec struct {
	table, column string
	key           string // the plan field naming the parent: "switch", "router"
}

var (
	specSwitch = &tableSpec{name: "Logical_Switch", kind: KindSwitch, named: true,
		columns: []string{"other_config", "external_ids"}}
	specRouter = &tableSpec{name: "Logical_Router", kind: KindRouter, named: true,
		columns: []string{"options", "external_ids"}}
	specDHCP = &tableSpec{name: "DHCP_Options", kind: KindDHCPOptions,
		columns: []string{"cidr", "options", "external_ids"}}
	specSwitchPort = &tableSpec{name: "Logical_Switch_Port", kind: KindSwitchPort, named: true,
		columns: []string{"type", "addresses", "options", "dhcpv4_options", "dhcpv6_options",
			"port_security", "enabled", "tag_request", "external_ids"},
		read:   []string{"dynamic_addresses"},
		parent: &parentSpec{"Logical_Switch", "ports", "switch"}}
	specRouterPort = &tableSpec{name: "Logical_Router_Port", kind: KindRouterPort, named: true,
		columns: []string{"mac", "networks", "external_ids"},
		read:    []string{"peer"},
		parent:  &parentSpec{"Logical_Router", "ports", "router"}}
	specGatewayChassis = &tableSpec{name: "Gateway_Chassis", kind: KindGatewayChassis, named: true,
		columns: []string{"chassis_name", "priority", "external_ids"},
		parent:  &parentSpec{"Logical_Router_Port", "gateway_chassis", "router_port"}}
	specNAT = &tableSpec{name: "NAT", kind: KindNAT,
		columns: []string{"type", "external_ip", "logical_ip", "logical_port", "external_mac", "external_ids"},
		parent:  &parentSpec{"Logical_Router", "nat", "router"},
		natural: []string{"type", "external_ip", "logical_ip"}}
	specStaticRoute = &tableSpec{name: "Logical_Router_Static_Route", kind: KindStaticRoute,
		columns: []string{"ip_prefix", "nexthop", "output_port", "external_ids"},
		parent:  &parentSpec{"Logical_Router", "static_routes", "router"},
		natural: []string{"ip_prefix", "nexthop"}}
)

// tables lists the managed tables, parents before children; destroy walks
// it backwards.
var tables = []*tableSpec{specSwitch, specRouter, specDHCP, specSwitchPort, specRouterPort,
	specGatewayChassis, specNAT, specStaticRoute}

// dhcpRefColumns are the LSP columns that reference DHCP_Options rows.
var dhcpRefColumns = []string{"dhcpv4_options", "dhcpv6_options"}

// rowRef is a desired reference to the row of another action of the
// runbook (a DHCPOptions), resolved to a UUID when the transaction is built.
type rowRef struct{ id string }

func (r rowRef) String() string { return r.id }

// pending is a column whose desired value waits for a future.
type pending struct {
	column, key string // key: the map key within column, or ""
	future      *interp.Future
}

// label is the plan field of a pending value: "chassis_name", "options:chassis".
func (p pending) label() string {
	if p.key == "" {
		return p.column
	}
	return p.column + ":" + p.key
}

// desired is the row an action wants, in canonical form: columns hold
// string, int, bool, sorted []string, map[string]string, rowRef or nil
// (empty set, map or optional value).
type desired struct {
	action  interp.Action
	spec    *tableSpec
	name    string // name column, "" when unnamed
	cols    map[string]any
	parent  string // name of the parent row, "" for root rows
	pending []pending
}

// desiredFor builds the row of an action, resolving futures from the run's
// outputs; a future not known yet (always, in a dry-run) becomes pending.
func (d *NBDriver) desiredFor(ctx context.Context, a interp.Action) (*desired, error) {
	m := a.Meta()
	tags := func(extra map[string]string) map[string]string {
		t := make(map[string]string, len(extra)+2)
		maps.Copy(t, extra)
		t[TagRunbook] = d.cfg.Owner
		t[TagAction] = m.ID
		return t
	}
	w := &desired{action: a, cols: make(map[string]any, 9)}
	switch a := a.(type) {
	case *LogicalSwitch:
		w.spec, w.name = specSwitch, m.Name
		w.cols["other_config"] = canonMap(a.OtherConfig)
		w.cols["external_ids"] = tags(a.ExternalIDs)
	case *LogicalSwitchPort:
		w.spec, w.name, w.parent = specSwitchPort, m.Name, a.Switch
		w.cols["type"] = a.Type
		w.cols["addresses"] = canonSet(a.Addresses)
		w.cols["options"] = canonMap(a.Options)
		w.cols["dhcpv4_options"] = optRef(a.DHCPv4Options)
		w.cols["dhcpv6_options"] = optRef(a.DHCPv6Options)
		w.cols["port_security"] = canonSet(a.PortSecurity)
		w.cols["enabled"] = nil
		if a.Enabled != nil {
			w.cols["enabled"] = *a.Enabled
		}
		w.cols["tag_request"] = nil
		if a.TagRequest != 0 {
			w.cols["tag_request"] = a.TagRequest
		}
		w.cols["external_ids"] = tags(nil)
	case *LogicalRouter:
		w.spec, w.name = specRouter, m.Name
		opts := maps.Clone(a.Options)
		if a.ChassisOption != nil {
			v, p, err := resolveValue(ctx, a.ChassisOption)
			if err != nil {
				return nil, actionError(a, "options:chassis: %v", err)
			}
			if p != nil {
				w.pending = append(w.pending, pending{"options", "chassis", p})
			} else {
				if opts == nil {
					opts = map[string]string{}
				}
				opts["chassis"] = v
			}
		}
		w.cols["options"] = canonMap(opts)
		w.cols["external_ids"] = tags(nil)
	case *LogicalRouterPort:
		w.spec, w.name, w.parent = specRouterPort, m.Name, a.Router
		w.cols["mac"] = a.MAC.String()
		w.cols["networks"] = canonSet(a.Networks)
		w.cols["external_ids"] = tags(nil)
	case *DHCPOptions:
		w.spec = specDHCP
		w.cols["cidr"] = a.CIDR.String()
		w.cols["options"] = canonMap(a.Options)
		w.cols["external_ids"] = tags(nil)
	case *GatewayChassis:
		w.spec, w.name, w.parent = specGatewayChassis, m.Name, a.RouterPort
		v, p, err := resolveValue(ctx, a.ChassisName)
		if err != nil {
			return nil, actionError(a, "chassis_name: %v", err)
		}
		if p != nil {
			w.pending = append(w.pending, pending{"chassis_name", "", p})
		}
		w.cols["chassis_name"] = v
		w.cols["priority"] = a.Priority
		w.cols["external_ids"] = tags(nil)
	case *NAT:
		w.spec, w.parent = specNAT, a.Router
		w.cols["type"] = a.Type
		w.cols["external_ip"] = a.ExternalIP
		w.cols["logical_ip"] = a.LogicalIP
		w.cols["logical_port"] = optValue(a.LogicalPort)
		w.cols["external_mac"] = optValue(a.ExternalMAC.String())
		w.cols["external_ids"] = tags(nil)
	case *StaticRoute:
		w.spec, w.parent = specStaticRoute, a.Router
		w.cols["ip_prefix"] = a.IPPrefix.String()
		w.cols["nexthop"] = a.Nexthop.String()
		w.cols["output_port"] = optValue(a.OutputPort)
		w.cols["external_ids"] = tags(nil)
	default:
		return nil, fmt.Errorf("nb: %s %s (%s): the NB driver does not handle %T", m.Kind, m.Name, m.Pos(), a)
	}
	if err := d.checkColumns(w); err != nil {
		return nil, err
	}
	return w, nil
}

// checkColumns refuses, at plan time, a value for a column the server's
// schema lacks (an older OVN): the error names the column, the table and the
// server's schema version. Columns left empty may be missing.
func (d *NBDriver) checkColumns(w *desired) error {
	var cols []string
	if w.spec.named {
		cols = append(cols, "name")
	}
	for _, c := range w.spec.columns {
		if w.cols[c] != nil {
			cols = append(cols, c)
		}
	}
	for _, p := range w.pending {
		cols = append(cols, p.column)
	}
	if w.spec.parent != nil {
		if err := d.db.Check(w.spec.parent.table, w.spec.parent.column); err != nil {
			return actionError(w.action, "%w", err)
		}
	}
	if err := d.db.Check(w.spec.name, cols...); err != nil {
		return actionError(w.action, "%w", err)
	}
	return nil
}

// resolveValue turns a string-or-future field into its value, or returns the
// future when its value is not known yet.
func resolveValue(ctx context.Context, v any) (string, *interp.Future, error) {
	switch v := v.(type) {
	case string:
		return v, nil, nil
	case *interp.Future:
		s, err := interp.Resolve(ctx, v)
		var unresolved *interp.UnresolvedError
		if errors.As(err, &unresolved) {
			return "", v, nil
		}
		return s, nil, err
	}
	return "", nil, fmt.Errorf("got %T, want a string or a future", v)
}

func canonSet(ss []string) any {
	if len(ss) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(ss))
}

func canonMap(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

func optValue(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optRef(id string) any {
	if id == "" {
		return nil
	}
	return rowRef{id}
}
