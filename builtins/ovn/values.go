package ovn

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Handles are the values builtins return. They are immutable views of the
// declared action, with attributes a runbook can read (port.mac, lrp.networks).
// A handle is accepted wherever its object is referred to; so is the name.

// handle implements the starlark.Value boilerplate shared by all handles.
type handle struct {
	typ, name string
}

func (h handle) String() string        { return fmt.Sprintf("%s(%q)", h.typ, h.name) }
func (h handle) Type() string          { return h.typ }
func (h handle) Freeze()               {}
func (h handle) Truth() starlark.Bool  { return starlark.True }
func (h handle) Hash() (uint32, error) { return starlark.String(h.typ + "/" + h.name).Hash() }

func stringList(ss []string) *starlark.List {
	l := make([]starlark.Value, len(ss))
	for i, s := range ss {
		l[i] = starlark.String(s)
	}
	return starlark.NewList(l)
}

func stringDict(m map[string]string) *starlark.Dict {
	d := starlark.NewDict(len(m))
	for k, v := range m {
		_ = d.SetKey(starlark.String(k), starlark.String(v))
	}
	d.Freeze()
	return d
}

// Switch is the handle of a logical switch.
type Switch struct {
	handle
	a      *Row
	subnet interp.CIDR
	ipv6   interp.IP
}

func (s *Switch) AttrNames() []string {
	return []string{"id", "ipv6_prefix", "name", "other_config", "subnet"}
}

func (s *Switch) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(s.a.M.ID), nil
	case "name":
		return starlark.String(s.name), nil
	case "subnet":
		return optString(s.subnet.String()), nil
	case "ipv6_prefix":
		return optString(s.ipv6.String()), nil
	case "other_config":
		return stringDict(s.a.strMap("other_config")), nil
	}
	return nil, nil
}

func optString(s string) starlark.Value {
	if s == "" {
		return starlark.None
	}
	return starlark.String(s)
}

// Port is the handle of a logical switch port.
type Port struct {
	handle
	a   *Row
	sw  starlark.Value // *Switch
	mac interp.MAC
	// dynamic4 and dynamic6 say whether northd assigns the port an address
	// of that family (addresses "MAC dynamic" on a switch with subnet or
	// ipv6_prefix).
	dynamic4, dynamic6 bool
	ipv4, ipv6         []string // static addresses
}

var _ interp.LogicalPort = (*Port)(nil)

func (p *Port) PortID() string           { return p.a.M.ID }
func (p *Port) PortName() string         { return p.name }
func (p *Port) PortMAC() interp.MAC      { return p.mac }
func (p *Port) PortIPv4() starlark.Value { return p.addr(p.ipv4, p.dynamic4, "ipv4") }

func (p *Port) addr(static []string, dynamic bool, family string) starlark.Value {
	if len(static) > 0 {
		return starlark.String(static[0])
	}
	if dynamic {
		return interp.NewFuture(p.a.M.ID, "dynamic_addresses."+family)
	}
	return starlark.None
}

func (p *Port) AttrNames() []string {
	return []string{"addresses", "dynamic_addresses", "id", "ipv4", "ipv6", "mac", "name", "options", "switch", "type"}
}

func (p *Port) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(p.a.M.ID), nil
	case "name":
		return starlark.String(p.name), nil
	case "mac":
		return optString(p.mac.String()), nil
	case "switch":
		return p.sw, nil
	case "type":
		return starlark.String(p.a.str("type")), nil
	case "addresses":
		return stringList(p.a.strs("addresses")), nil
	case "options":
		return stringDict(p.a.strMap("options")), nil
	case "ipv4":
		return p.addr(p.ipv4, p.dynamic4, "ipv4"), nil
	case "ipv6":
		return p.addr(p.ipv6, p.dynamic6, "ipv6"), nil
	case "dynamic_addresses":
		if hasDynamic(p.a.strs("addresses")) {
			return interp.NewFuture(p.a.M.ID, "dynamic_addresses"), nil
		}
		return starlark.None, nil
	}
	return nil, nil
}

// Router is the handle of a logical router.
type Router struct {
	handle
	a *Row
}

func (r *Router) AttrNames() []string { return []string{"id", "name", "options"} }

func (r *Router) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(r.a.M.ID), nil
	case "name":
		return starlark.String(r.name), nil
	case "options":
		return stringDict(r.a.strMap("options")), nil
	}
	return nil, nil
}

// RouterPort is the handle of a logical router port.
type RouterPort struct {
	handle
	a      *Row
	router *Router
	addrs  []interp.IfAddr
	peer   starlark.Value // *Port or None
}

func (p *RouterPort) AttrNames() []string {
	return []string{"id", "ip", "ips", "mac", "name", "networks", "peer", "router"}
}

func (p *RouterPort) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(p.a.M.ID), nil
	case "name":
		return starlark.String(p.name), nil
	case "mac":
		return starlark.String(p.a.str("mac")), nil
	case "networks":
		return stringList(p.a.strs("networks")), nil
	case "ip":
		return starlark.String(p.addrs[0].Prefix.Addr().String()), nil
	case "ips":
		ips := make([]string, len(p.addrs))
		for i, a := range p.addrs {
			ips[i] = a.Prefix.Addr().String()
		}
		return stringList(ips), nil
	case "router":
		return p.router, nil
	case "peer":
		return p.peer, nil
	}
	return nil, nil
}

// DHCP is the handle of a DHCP_Options row.
type DHCP struct {
	handle
	a    *Row
	cidr interp.CIDR
}

func (d *DHCP) AttrNames() []string { return []string{"cidr", "id", "ipv6", "options"} }

func (d *DHCP) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(d.a.M.ID), nil
	case "cidr":
		return starlark.String(d.cidr.String()), nil
	case "ipv6":
		return starlark.Bool(!d.cidr.Is4()), nil
	case "options":
		return stringDict(d.a.strMap("options")), nil
	}
	return nil, nil
}

// intArg checks that v is an int from lo to hi. Starlark's own unpacking
// stops at 2^31-1, and OVSDB rates go to 2^32-1.
func intArg(c *interp.Call, param string, v starlark.Value, lo, hi int64) (int, error) {
	n, ok := v.(starlark.Int)
	if !ok {
		return 0, c.Errorf("%s: got %s, want int", param, v.Type())
	}
	i, ok := n.Int64()
	if !ok || i < lo || i > hi {
		return 0, c.Errorf("%s %s: want %d to %d", param, n, lo, hi)
	}
	return int(i), nil
}
