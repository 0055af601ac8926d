package ovn

import (
	"slices"

	"github.com/ovnrun/ovnrun/internal/topo"
)

// Each NB action describes its part of the topology that `ovnrun graph`
// draws (topo.Element).

var (
	_ topo.Element = (*LogicalSwitch)(nil)
	_ topo.Element = (*LogicalSwitchPort)(nil)
	_ topo.Element = (*LogicalRouter)(nil)
	_ topo.Element = (*LogicalRouterPort)(nil)
	_ topo.Element = (*GatewayChassis)(nil)
	_ topo.Element = (*NAT)(nil)
	_ topo.Element = (*StaticRoute)(nil)
)

// Describe implements topo.Element.
func (a *LogicalSwitch) Describe(b *topo.Builder) {
	s := b.Switch(a.M.Name)
	s.Subnet, s.IPv6Prefix = a.OtherConfig["subnet"], a.OtherConfig["ipv6_prefix"]
}

// Describe implements topo.Element.
func (a *LogicalSwitchPort) Describe(b *topo.Builder) {
	s := b.Switch(a.Switch)
	s.Ports = append(s.Ports, &topo.SwitchPort{
		Name: a.M.Name, Type: a.Type, Addresses: slices.Clone(a.Addresses),
		RouterPort: a.Options["router-port"], NetworkName: a.Options["network_name"],
	})
}

// Describe implements topo.Element.
func (a *LogicalRouter) Describe(b *topo.Builder) {
	r := b.Router(a.M.Name)
	if a.ChassisOption != nil {
		c := topo.ChassisOf(a.ChassisOption)
		r.Chassis = &c
	}
}

// Describe implements topo.Element.
func (a *LogicalRouterPort) Describe(b *topo.Builder) {
	b.AddRouterPort(a.Router, &topo.RouterPort{Name: a.M.Name, MAC: a.MAC.String(), Networks: slices.Clone(a.Networks)})
}

// Describe implements topo.Element.
func (a *GatewayChassis) Describe(b *topo.Builder) {
	b.AddGatewayChassis(a.RouterPort, topo.GatewayChassis{Chassis: topo.ChassisOf(a.ChassisName), Priority: a.Priority})
}

// Describe implements topo.Element.
func (a *NAT) Describe(b *topo.Builder) {
	r := b.Router(a.Router)
	r.NAT = append(r.NAT, topo.NAT{Type: a.Type, ExternalIP: a.ExternalIP, LogicalIP: a.LogicalIP,
		LogicalPort: a.LogicalPort, ExternalMAC: a.ExternalMAC.String()})
}

// Describe implements topo.Element.
func (a *StaticRoute) Describe(b *topo.Builder) {
	r := b.Router(a.Router)
	r.Routes = append(r.Routes, topo.Route{Prefix: a.IPPrefix.String(), Nexthop: a.Nexthop.String(), OutputPort: a.OutputPort})
}
