// Package topo builds the topology of an OVN lab — logical switches and
// routers, their ports, and the hosts, VMs and bridges behind them — from a
// runbook's plan or a live Northbound database, and draws it as Graphviz DOT
// or Mermaid (and, through Graphviz's dot, as SVG or PNG).
//
// It knows no domain: a plan's actions describe their own part through
// Element and Builder, and the NB domain reads a live database into a
// Topology (ovn.ReadTopology) from its own table descriptions. It imports
// interp and the standard library only; the domain packages import it, never
// the other way round (internal/layers tests this).
package topo

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// Topology is an OVN lab as a picture needs it. Every slice is sorted by
// name, so rendering the same topology always gives the same text.
type Topology struct {
	// Source says where the logical part was read: a runbook path, or
	// "NB tcp:..." for a live database.
	Source   string
	Switches []*Switch
	Routers  []*Router
	Hosts    []*Host
}

// Switch is a Logical_Switch.
type Switch struct {
	Name       string
	Subnet     string // other_config:subnet
	IPv6Prefix string // other_config:ipv6_prefix
	Ports      []*SwitchPort
}

// SwitchPort is a Logical_Switch_Port.
type SwitchPort struct {
	Name string
	Type string // "" for a VM port, router, localnet, ...
	// Addresses as in NB: "MAC", "MAC IP...", "MAC dynamic", "unknown", "router".
	Addresses []string
	// DynamicAddresses is what ovn-northd assigned to a dynamic port; read
	// from a live NB only.
	DynamicAddresses string
	RouterPort       string // options:router-port, for a router-type port
	NetworkName      string // options:network_name, for a localnet port

	// Resolved against the hosts by New: the VM NICs whose iface-id names
	// this port.
	VIFs []VIF
}

// VIF is a VM NIC bound to a switch port.
type VIF struct {
	Host, VM, Dev, MAC string
}

// Router is a Logical_Router.
type Router struct {
	Name string
	// Chassis is options:chassis: the chassis of a gateway router (an "L3
	// gateway"), or nil.
	Chassis *Chassis
	Ports   []*RouterPort
	NAT     []NAT   // sorted by type, external IP, logical IP
	Routes  []Route // sorted by prefix, nexthop
}

// RouterPort is a Logical_Router_Port.
type RouterPort struct {
	Name     string
	MAC      string
	Networks []string
	Peer     string // the peer column: a router port patched to this one
	// GatewayChassis makes the port a distributed gateway port; highest
	// priority first.
	GatewayChassis []GatewayChassis

	// Resolved by New: the router-type switch port patched to this port.
	Switch, SwitchPort string
}

// GatewayChassis is a Gateway_Chassis row of a router port.
type GatewayChassis struct {
	Chassis
	Priority int
}

// Chassis names an OVN chassis: by its name (the chassis' OVS system-id) and,
// when it is one of the lab's hosts, by that host. A plan may know only the
// host (its system-id is read at apply time); a live NB knows only the name.
type Chassis struct {
	Name string
	Host string
}

// Label is how a picture names the chassis: its host when known.
func (c Chassis) Label() string { return cmp.Or(c.Host, c.Name, "?") }

// NAT is a NAT rule of a router.
type NAT struct {
	Type        string // snat, dnat or dnat_and_snat
	ExternalIP  string
	LogicalIP   string
	LogicalPort string // distributed NAT: the port whose chassis does it
	ExternalMAC string
}

// Route is a Logical_Router_Static_Route.
type Route struct {
	Prefix, Nexthop, OutputPort string
}

// Host is a machine of the lab: a hypervisor, the central node, or an
// outside host.
type Host struct {
	Name     string
	Address  string
	SystemID string // its chassis name; "" when unknown
	Chassis  bool   // runs ovn-controller (or is named as a chassis)
	Bridges  []*Bridge
	VMs      []*VM
	Routes   []HostRoute
}

// Bridge is an OVS bridge a runbook declares on a host, or one its
// ovn-bridge-mappings name.
type Bridge struct {
	Name   string
	Ifaces []string // the host interfaces it holds
	// Networks are the physical networks ovn-bridge-mappings maps to it.
	Networks []string
}

// VM is a libvirt domain with its NICs (sorted by device name).
type VM struct {
	Name string
	NICs []NIC
}

// NIC is a VM interface on an OVS bridge. Port is the switch port its
// iface-id binds it to, resolved by New; "" when no port has that name.
type NIC struct {
	Dev, MAC, Bridge, IfaceID string
	Port                      string
}

// HostRoute is a route in a host's routing table.
type HostRoute struct {
	Prefix, Via, Dev string
}

// New sorts a topology and resolves what ties its parts together: router
// ports to their peer switch ports, switch ports to the VM NICs bound to
// them, and chassis to hosts by system-id.
func New(source string, switches []*Switch, routers []*Router, hosts []*Host) *Topology {
	t := &Topology{Source: source, Switches: switches, Routers: routers, Hosts: hosts}
	t.sort()
	t.resolve()
	return t
}

func byName[T any](name func(T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(name(a), name(b)) }
}

func (t *Topology) sort() {
	slices.SortFunc(t.Switches, byName(func(s *Switch) string { return s.Name }))
	slices.SortFunc(t.Routers, byName(func(r *Router) string { return r.Name }))
	slices.SortFunc(t.Hosts, byName(func(h *Host) string { return h.Name }))
	for _, s := range t.Switches {
		slices.SortFunc(s.Ports, byName(func(p *SwitchPort) string { return p.Name }))
	}
	for _, r := range t.Routers {
		slices.SortFunc(r.Ports, byName(func(p *RouterPort) string { return p.Name }))
		for _, p := range r.Ports {
			slices.SortStableFunc(p.GatewayChassis, func(a, b GatewayChassis) int {
				return cmp.Or(cmp.Compare(b.Priority, a.Priority), strings.Compare(a.Label(), b.Label()))
			})
		}
		slices.SortFunc(r.NAT, func(a, b NAT) int {
			return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.ExternalIP, b.ExternalIP),
				strings.Compare(a.LogicalIP, b.LogicalIP))
		})
		slices.SortFunc(r.Routes, func(a, b Route) int {
			return cmp.Or(strings.Compare(a.Prefix, b.Prefix), strings.Compare(a.Nexthop, b.Nexthop))
		})
	}
	for _, h := range t.Hosts {
		slices.SortFunc(h.Bridges, byName(func(b *Bridge) string { return b.Name }))
		slices.SortFunc(h.VMs, byName(func(v *VM) string { return v.Name }))
		for _, v := range h.VMs {
			slices.SortFunc(v.NICs, byName(func(n NIC) string { return n.Dev }))
		}
		for _, b := range h.Bridges {
			slices.Sort(b.Networks)
		}
		slices.SortFunc(h.Routes, func(a, b HostRoute) int {
			return cmp.Or(strings.Compare(a.Prefix, b.Prefix), strings.Compare(a.Via, b.Via))
		})
	}
}

func (t *Topology) resolve() {
	rports := map[string]*RouterPort{}
	for _, r := range t.Routers {
		for _, p := range r.Ports {
			rports[p.Name] = p
		}
	}
	ports := map[string]*SwitchPort{}
	for _, s := range t.Switches {
		for _, p := range s.Ports {
			ports[p.Name] = p
			if p.Type != "router" {
				continue
			}
			if rp := rports[p.RouterPort]; rp != nil {
				rp.Switch, rp.SwitchPort = s.Name, p.Name
			}
		}
	}
	for _, h := range t.Hosts {
		for _, v := range h.VMs {
			for i := range v.NICs {
				n := &v.NICs[i]
				if p := ports[n.IfaceID]; p != nil && n.IfaceID != "" {
					n.Port = p.Name
					p.VIFs = append(p.VIFs, VIF{Host: h.Name, VM: v.Name, Dev: n.Dev, MAC: n.MAC})
				}
			}
		}
	}
	for _, r := range t.Routers {
		if r.Chassis != nil {
			t.resolveChassis(r.Chassis)
		}
		for _, p := range r.Ports {
			for i := range p.GatewayChassis {
				t.resolveChassis(&p.GatewayChassis[i].Chassis)
			}
		}
	}
}

// resolveChassis finds the host of a chassis by its system-id, and marks
// that host as a chassis.
func (t *Topology) resolveChassis(c *Chassis) {
	if c.Host == "" && c.Name != "" {
		for _, h := range t.Hosts {
			if h.SystemID == c.Name {
				c.Host = h.Name
				break
			}
		}
	}
	if h := t.Host(c.Host); h != nil {
		h.Chassis = true
		if c.Name == "" {
			c.Name = h.SystemID
		}
	}
}

// Switch returns the switch called name, or nil.
func (t *Topology) Switch(name string) *Switch {
	i, ok := slices.BinarySearchFunc(t.Switches, name, func(s *Switch, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return nil
	}
	return t.Switches[i]
}

// Router returns the router called name, or nil.
func (t *Topology) Router(name string) *Router {
	i, ok := slices.BinarySearchFunc(t.Routers, name, func(r *Router, n string) int { return strings.Compare(r.Name, n) })
	if !ok {
		return nil
	}
	return t.Routers[i]
}

// Host returns the host called name, or nil.
func (t *Topology) Host(name string) *Host {
	i, ok := slices.BinarySearchFunc(t.Hosts, name, func(h *Host, n string) int { return strings.Compare(h.Name, n) })
	if !ok {
		return nil
	}
	return t.Hosts[i]
}

// Port returns the switch port called name, or nil.
func (s *Switch) Port(name string) *SwitchPort {
	for _, p := range s.Ports {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Port returns the router port called name, or nil.
func (r *Router) Port(name string) *RouterPort {
	for _, p := range r.Ports {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// RouterPort returns the router port called name and its router.
func (t *Topology) RouterPort(name string) (*RouterPort, *Router) {
	for _, r := range t.Routers {
		if p := r.Port(name); p != nil {
			return p, r
		}
	}
	return nil, nil
}

// HasLocalnet reports whether the switch reaches a physical network.
func (s *Switch) HasLocalnet() bool {
	return slices.ContainsFunc(s.Ports, func(p *SwitchPort) bool { return p.Type == "localnet" })
}

// Networks returns the physical networks of the lab: those localnet ports
// name and those bridge mappings carry, sorted.
func (t *Topology) Networks() []string {
	var nets []string
	for _, s := range t.Switches {
		for _, p := range s.Ports {
			if p.Type == "localnet" && p.NetworkName != "" {
				nets = append(nets, p.NetworkName)
			}
		}
	}
	for _, h := range t.Hosts {
		for _, b := range h.Bridges {
			nets = append(nets, b.Networks...)
		}
	}
	slices.Sort(nets)
	return slices.Compact(nets)
}

// networkOf returns the physical network through which addr is reached: that
// of the localnet port of a switch whose subnet, or whose router ports'
// networks, hold addr. It returns "" when no such switch has one.
func (t *Topology) networkOf(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	for _, s := range t.Switches {
		net := ""
		for _, p := range s.Ports {
			if p.Type == "localnet" && p.NetworkName != "" {
				net = p.NetworkName
				break
			}
		}
		if net == "" {
			continue
		}
		prefixes := []string{s.Subnet}
		for _, p := range s.Ports {
			if rp, _ := t.RouterPort(p.RouterPort); p.Type == "router" && rp != nil {
				prefixes = append(prefixes, rp.Networks...)
			}
		}
		for _, text := range prefixes {
			if pfx, err := netip.ParsePrefix(text); err == nil && pfx.Contains(ip) {
				return net
			}
		}
	}
	return ""
}
