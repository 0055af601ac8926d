package ovn

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ovnrun/ovnrun/interp"
)

// Lints refuse, at evaluation and with the runbook's file:line, topologies
// that ovn-nbctl would store and ovn-northd would silently ignore or get
// wrong: two ports of one switch with the same MAC or IP, overlapping
// networks on one router, NAT on a router with no gateway, and a gateway
// chassis that names no host of the runbook.

// checkPortAddresses refuses a port whose MAC or IP another port of the same
// switch already has, and records its addresses.
func checkPortAddresses(c *interp.Call, st *state, sw *Switch, p *Row) error {
	if st.switchAddrs[sw.name] == nil {
		st.switchAddrs[sw.name] = map[string]string{}
	}
	seen := st.switchAddrs[sw.name]
	addrs := portAddresses(st, p)
	for _, a := range addrs {
		if other, dup := seen[a]; dup && other != p.M.Name {
			what := "IP address"
			if strings.Count(a, ":") == 5 && !strings.Contains(a, "::") {
				if _, err := interp.ParseMAC(a); err == nil {
					what = "MAC"
				}
			}
			pos := st.ports[other].a.M.Pos()
			return c.Errorf("%s %s is already port %s's on switch %s (%s): ovn-northd would deliver its traffic to one of them only", what, a, other, sw.name, pos)
		}
	}
	for _, a := range addrs {
		seen[a] = p.M.Name
	}
	return nil
}

// portAddresses lists the MACs and static IPs of a switch port's addresses
// column; "router" addresses are those of the peer router port.
func portAddresses(st *state, p *Row) []string {
	var out []string
	for _, entry := range p.strs("addresses") {
		if entry == "router" {
			if rp := st.routerPorts[p.strMap("options")["router-port"]]; rp != nil {
				out = append(out, rp.a.str("mac"))
				for _, a := range rp.addrs {
					out = append(out, a.Prefix.Addr().String())
				}
			}
			continue
		}
		if entry == "unknown" || entry == "dynamic" {
			continue
		}
		// Read in place, and "dynamic" passed over unparsed: every port of
		// a bulk build has "MAC dynamic", and a failed parse allocates.
		first := true
		for x := range strings.FieldsSeq(entry) {
			if first {
				first = false
				if m, err := interp.ParseMAC(x); err == nil {
					out = append(out, m.String())
				}
			} else if x != "dynamic" {
				if ip, err := netip.ParseAddr(x); err == nil {
					out = append(out, ip.String())
				}
			}
		}
	}
	return out
}

// checkRouterNetworks refuses a router port whose networks overlap those of
// another port of the same router: the router could not tell where to send
// traffic for the overlap.
func checkRouterNetworks(c *interp.Call, st *state, r *Router, name string, addrs []interp.IfAddr) error {
	for _, other := range st.routerPorts {
		if other.router != r || other.name == name {
			continue
		}
		for _, a := range addrs {
			for _, b := range other.addrs {
				pa, pb := a.Prefix.Masked(), b.Prefix.Masked()
				if pa.Addr().IsLinkLocalUnicast() || pb.Addr().IsLinkLocalUnicast() {
					continue // every port has its own on the link: fe80::/64 repeats by design
				}
				if pa.Addr().Is4() == pb.Addr().Is4() && (pa.Contains(pb.Addr()) || pb.Contains(pa.Addr())) {
					return c.Errorf("networks: %s overlaps %s of port %s on router %s (%s)", a, b, other.name, r.name, other.a.M.Pos())
				}
			}
		}
	}
	return nil
}

// requireGateway refuses, once the runbook is evaluated, NAT on a router
// that is neither a gateway router (lr(chassis=)) nor has a distributed
// gateway port (gateway_chassis() or an HA chassis group on one of its
// ports): ovn-northd makes no NAT flows for it.
func requireGateway(c *interp.Call, st *state, r *Router) {
	c.AtEnd(func() error {
		if r.a.future("options", "chassis") != nil {
			return nil
		}
		for _, p := range st.routerPorts {
			if p.router == r && (st.gatewayPorts[p.name] || p.a.Cols["ha_chassis_group"] != nil) {
				return nil
			}
		}
		return fmt.Errorf("router %s has neither a gateway chassis (gateway_chassis() on one of its ports, or an HA chassis group) nor is a gateway router (lr(chassis=)): ovn-northd makes no NAT flows for it", r.name)
	})
}
