package topo

import (
	"strings"

	"github.com/ovnrun/ovnrun/interp"
)

// Element is an action with a part in the lab's topology. Each domain's
// actions describe themselves to a Builder, so topo reads a plan without
// knowing any domain's action types: the domains import topo, never the
// other way round.
type Element interface {
	Describe(b *Builder)
}

// Builder collects the parts of a topology that a plan's actions describe,
// in any order: a gateway chassis may come before its router port, a bridge
// mapping before its bridge.
type Builder struct {
	switches    map[string]*Switch
	routers     map[string]*Router
	routerPorts map[string]*RouterPort
	gateways    []gateway
	hosts       map[string]*Host
	vms         map[string]*VM // host/domain -> VM
	mappings    []mapping
}

type gateway struct {
	routerPort string
	chassis    GatewayChassis
}

type mapping struct{ host, network, bridge string }

func newBuilder(p *interp.Plan) *Builder {
	b := &Builder{
		switches: map[string]*Switch{}, routers: map[string]*Router{}, routerPorts: map[string]*RouterPort{},
		hosts: map[string]*Host{}, vms: map[string]*VM{},
	}
	for name, h := range p.Hosts {
		b.hosts[name] = &Host{Name: name, Address: h.Address, SystemID: h.SystemID}
	}
	for _, s := range p.Steps {
		for _, a := range s.Actions {
			if e, ok := a.(Element); ok {
				e.Describe(b)
			}
		}
	}
	for _, g := range b.gateways {
		if rp := b.routerPorts[g.routerPort]; rp != nil {
			rp.GatewayChassis = append(rp.GatewayChassis, g.chassis)
		}
	}
	for _, m := range b.mappings {
		br := bridgeOf(b.hosts[m.host], m.bridge)
		br.Networks = append(br.Networks, m.network)
	}
	return b
}

// FromPlan returns the topology a plan builds: its NB actions give the
// logical part, its hosts, bridges, external_ids, VMs and NICs the physical
// part. Every step counts, whatever steps a run would select.
func FromPlan(p *interp.Plan) *Topology {
	b := newBuilder(p)
	return New(p.Runbook, values(b.switches), values(b.routers), values(b.hosts))
}

// HostsFromPlan returns the hosts a plan declares, with the bridges, bridge
// mappings, VMs, NICs and routes it puts on them.
func HostsFromPlan(p *interp.Plan) []*Host {
	return values(newBuilder(p).hosts)
}

// Switch returns the switch called name, adding it on first use.
func (b *Builder) Switch(name string) *Switch {
	if b.switches[name] == nil {
		b.switches[name] = &Switch{Name: name}
	}
	return b.switches[name]
}

// Router returns the router called name, adding it on first use.
func (b *Builder) Router(name string) *Router {
	if b.routers[name] == nil {
		b.routers[name] = &Router{Name: name}
	}
	return b.routers[name]
}

// AddRouterPort adds a port to the router called router.
func (b *Builder) AddRouterPort(router string, p *RouterPort) {
	b.routerPorts[p.Name] = p
	r := b.Router(router)
	r.Ports = append(r.Ports, p)
}

// AddGatewayChassis makes the router port called routerPort a gateway port
// on a chassis. A gateway chassis is declared after its port, but in any
// step: it is attached once every action has been described.
func (b *Builder) AddGatewayChassis(routerPort string, gc GatewayChassis) {
	b.gateways = append(b.gateways, gateway{routerPort, gc})
}

// Host returns the declared host called name, or nil: an action on a host
// the plan does not declare has no place in the picture.
func (b *Builder) Host(name string) *Host { return b.hosts[name] }

// AddBridgeMapping records that host maps a physical network to a bridge,
// which the picture shows even when no action declares the bridge.
func (b *Builder) AddBridgeMapping(host, network, bridge string) {
	if b.hosts[host] != nil {
		b.mappings = append(b.mappings, mapping{host, network, bridge})
	}
}

// AddVM adds a VM to a declared host.
func (b *Builder) AddVM(host, name string) {
	if h := b.hosts[host]; h != nil {
		vm := &VM{Name: name}
		b.vms[host+"/"+name] = vm
		h.VMs = append(h.VMs, vm)
	}
}

// AddNIC adds a NIC to a VM added before.
func (b *Builder) AddNIC(host, vm string, n NIC) {
	if v := b.vms[host+"/"+vm]; v != nil {
		v.NICs = append(v.NICs, n)
	}
}

// ChassisOf reads a plan's chassis value: a chassis name, or the future
// system-id of a declared host.
func ChassisOf(v any) Chassis {
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

// values returns the values of m; New sorts them.
func values[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
