package topo

import (
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/interp"
)

// FromPlan returns the topology a plan builds: its NB actions give the
// logical part, its hosts, bridges, external_ids, VMs and NICs the physical
// part. Every step counts, whatever steps a run would select.
func FromPlan(p *interp.Plan) *Topology {
	switches, routers := logicalFromPlan(p)
	return New(p.Runbook, switches, routers, HostsFromPlan(p))
}

// logicalFromPlan collects the switches and routers of a plan's NB actions.
func logicalFromPlan(p *interp.Plan) ([]*Switch, []*Router) {
	switches := map[string]*Switch{}
	routers := map[string]*Router{}
	sw := func(name string) *Switch {
		if switches[name] == nil {
			switches[name] = &Switch{Name: name}
		}
		return switches[name]
	}
	rt := func(name string) *Router {
		if routers[name] == nil {
			routers[name] = &Router{Name: name}
		}
		return routers[name]
	}
	rports := map[string]*RouterPort{}
	var gateways []*ovn.GatewayChassis
	for _, a := range actions(p) {
		switch a := a.(type) {
		case *ovn.LogicalSwitch:
			s := sw(a.M.Name)
			s.Subnet, s.IPv6Prefix = a.OtherConfig["subnet"], a.OtherConfig["ipv6_prefix"]
		case *ovn.LogicalSwitchPort:
			s := sw(a.Switch)
			s.Ports = append(s.Ports, &SwitchPort{
				Name: a.M.Name, Type: a.Type, Addresses: slices.Clone(a.Addresses),
				RouterPort: a.Options["router-port"], NetworkName: a.Options["network_name"],
			})
		case *ovn.LogicalRouter:
			r := rt(a.M.Name)
			if a.ChassisOption != nil {
				c := chassisField(a.ChassisOption)
				r.Chassis = &c
			}
		case *ovn.LogicalRouterPort:
			rp := &RouterPort{Name: a.M.Name, MAC: a.MAC.String(), Networks: slices.Clone(a.Networks)}
			rports[rp.Name] = rp
			r := rt(a.Router)
			r.Ports = append(r.Ports, rp)
		case *ovn.GatewayChassis:
			gateways = append(gateways, a)
		case *ovn.NAT:
			r := rt(a.Router)
			r.NAT = append(r.NAT, NAT{Type: a.Type, ExternalIP: a.ExternalIP, LogicalIP: a.LogicalIP,
				LogicalPort: a.LogicalPort, ExternalMAC: a.ExternalMAC.String()})
		case *ovn.StaticRoute:
			r := rt(a.Router)
			r.Routes = append(r.Routes, Route{Prefix: a.IPPrefix.String(), Nexthop: a.Nexthop.String(), OutputPort: a.OutputPort})
		}
	}
	// A gateway chassis is declared after its port, but in any step.
	for _, g := range gateways {
		if rp := rports[g.RouterPort]; rp != nil {
			rp.GatewayChassis = append(rp.GatewayChassis, GatewayChassis{Chassis: chassisField(g.ChassisName), Priority: g.Priority})
		}
	}
	return values(switches), values(routers)
}

// chassisField reads a plan's chassis value: a chassis name, or the future
// system-id of a declared host.
func chassisField(v any) Chassis {
	switch v := v.(type) {
	case string:
		return Chassis{Name: v}
	case *interp.Future:
		if name, ok := strings.CutPrefix(v.From, "host/"); ok && v.Attr == "system_id" {
			return Chassis{Host: name}
		}
	}
	return Chassis{}
}

// HostsFromPlan returns the hosts a plan declares, with the bridges, bridge
// mappings, VMs, NICs and routes it puts on them.
func HostsFromPlan(p *interp.Plan) []*Host {
	hosts := map[string]*Host{}
	for name, h := range p.Hosts {
		hosts[name] = &Host{Name: name, Address: h.Address, SystemID: h.SystemID}
	}
	vms := map[string]*VM{} // host/domain -> VM
	type mapping struct{ host, network, bridge string }
	var mappings []mapping
	for _, a := range actions(p) {
		h := hosts[a.Meta().Host]
		if h == nil {
			continue
		}
		switch a := a.(type) {
		case *host.ExternalIDs:
			if a.IDs["ovn-remote"] != "" || a.IDs["system-id"] != "" {
				h.Chassis = true
			}
			if h.SystemID == "" {
				h.SystemID = a.IDs["system-id"]
			}
			for pair := range strings.SplitSeq(a.IDs["ovn-bridge-mappings"], ",") {
				if network, br, ok := strings.Cut(strings.TrimSpace(pair), ":"); ok {
					mappings = append(mappings, mapping{h.Name, network, br})
				}
			}
		case *host.OVSBridge:
			h.Bridges = append(h.Bridges, &Bridge{Name: a.Bridge, Ifaces: slices.Clone(a.Ports)})
		case *host.Route:
			h.Routes = append(h.Routes, HostRoute{Prefix: a.Prefix.String(), Via: a.Via.String(), Dev: a.Dev})
		case *virt.Domain:
			vm := &VM{Name: a.Domain}
			vms[h.Name+"/"+a.Domain] = vm
			h.VMs = append(h.VMs, vm)
		case *virt.Interface:
			if vm := vms[h.Name+"/"+a.VM]; vm != nil {
				vm.NICs = append(vm.NICs, NIC{Dev: a.Dev, MAC: a.MAC.String(), Bridge: a.Bridge, IfaceID: a.IfaceID})
			}
		}
	}
	for _, m := range mappings {
		b := bridgeOf(hosts[m.host], m.bridge)
		b.Networks = append(b.Networks, m.network)
	}
	return values(hosts)
}

// bridgeOf returns the bridge called name on h, adding it when the plan
// maps a network to a bridge it does not declare.
func bridgeOf(h *Host, name string) *Bridge {
	for _, b := range h.Bridges {
		if b.Name == name {
			return b
		}
	}
	b := &Bridge{Name: name}
	h.Bridges = append(h.Bridges, b)
	return b
}

func actions(p *interp.Plan) []interp.Action {
	var out []interp.Action
	for _, s := range p.Steps {
		out = append(out, s.Actions...)
	}
	return out
}

// values returns the values of m; New sorts them.
func values[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
