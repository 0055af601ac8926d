package ovn

import (
	"fmt"
	"net/netip"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// BFD rows live on their own (a root table), one per router port and peer
// address (the schema's index); static routes use them through their bfd
// column. ovn-northd writes status.
var tableBFD = describe(&Table{Name: "BFD", Builtin: "bfd() or route(bfd=)", Key: []string{"logical_port", "dst_ip"}, KeyConflicts: true,
	Columns: []string{"logical_port", "dst_ip", "min_tx", "min_rx", "detect_mult", "external_ids"},
	Read:    []string{"status"}})

var _ = family(interp.Builtin{Domain: "ovn", Name: "bfd",
	Signature: "bfd(port, dst_ip, min_tx=, min_rx=, detect_mult=, external_ids=)", Fn: bfdBuiltin,
	Doc: `Declares a BFD session from router port port (a router port or its name) to the peer dst_ip (an
address in one of the port's networks, or an IPv6 link-local address): ovn-controller on the port's
gateway chassis runs it, and ovn-northd drops the static routes that use it while it is down.
min_tx= (ms, at least 1; OVN's default 1000), min_rx= (ms, 0 or more; 0 asks the peer not to send)
and detect_mult= (at least 1; default 5) tune it. ovn-nbctl 23.03 has no BFD command: this is
ovn-nbctl create BFD logical_port=PORT dst_ip=IP [min_tx=...]; the options column is reserved by
OVN and not written. Pass the result to route(bfd=), or use route(bfd=True), which declares the
session of the route's nexthop itself. Returns a session with attributes id, port and dst_ip.`})

// BFD is the handle of a BFD row.
type BFD struct {
	handle
	a     *Row
	port  *RouterPort
	dstIP interp.IP
}

func (b *BFD) AttrNames() []string { return []string{"dst_ip", "id", "port"} }

func (b *BFD) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(b.a.M.ID), nil
	case "port":
		return b.port, nil
	case "dst_ip":
		return starlark.String(b.dstIP.String()), nil
	}
	return nil, nil
}

// bfdSessions are the sessions declared so far in one evaluation, by
// bfdKey, whether by bfd() or by route(bfd=True).
func bfdSessions(c *interp.Call) map[string]*BFD {
	return c.Ev.Domain("ovn/bfd", func() any { return map[string]*BFD{} }).(map[string]*BFD)
}

// bfdKey is the action name of a session: port and peer as written, since
// ovn-northd compares a route's nexthop with dst_ip as strings.
func bfdKey(port string, ip interp.IP) string { return port + "/" + ip.String() }

// bfd(port, dst_ip, min_tx=, min_rx=, detect_mult=, external_ids=)
func bfdBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		pv                       starlark.Value
		dstIP                    interp.IP
		minTx, minRx, detectMult starlark.Value
		externalIDs              interp.StringMap
	)
	if err := c.Unpack(2, "port", &pv, "dst_ip", &dstIP, "min_tx?", &minTx, "min_rx?", &minRx,
		"detect_mult?", &detectMult, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	rp, err := stateOf(c).routerPortRef(c, "port", pv)
	if err != nil {
		return nil, err
	}
	if !onLink(rp, dstIP.Addr) {
		return nil, c.Errorf("dst_ip %s is in no network of port %s (%s): BFD watches a directly connected peer", dstIP, rp.name, networksOf(rp))
	}
	cols := map[string]any{"logical_port": rp.name, "dst_ip": dstIP.String(), "external_ids": externalIDs}
	for _, o := range []struct {
		param string
		v     starlark.Value
		min   int
	}{{"min_tx", minTx, 1}, {"min_rx", minRx, 0}, {"detect_mult", detectMult, 1}} {
		if o.v == nil {
			continue
		}
		n, err := starlark.AsInt32(o.v)
		if err != nil {
			return nil, c.Errorf("%s: got %s, want int", o.param, o.v.Type())
		}
		if n < o.min {
			return nil, c.Errorf("%s %d: want %d or more", o.param, n, o.min)
		}
		cols[o.param] = n
	}
	if old := bfdSessions(c)[bfdKey(rp.name, dstIP)]; old != nil {
		return nil, c.Errorf("a BFD session from %s to %s is already declared at %s (route(bfd=True) declares the session of its nexthop: declare bfd() before the route to tune it)", rp.name, dstIP, old.a.M.Pos())
	}
	return addBFD(c, rp, dstIP, cols)
}

func addBFD(c *interp.Call, rp *RouterPort, dstIP interp.IP, cols map[string]any) (*BFD, error) {
	a := newRow(tableBFD, bfdKey(rp.name, dstIP), cols, rp.a.M.ID)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	b := &BFD{handle: handle{"bfd", a.M.Name}, a: a, port: rp, dstIP: dstIP}
	bfdSessions(c)[a.M.Name] = b
	return b, nil
}

// onLink reports whether ip is in one of rp's networks, or is an IPv6
// link-local address of a port with an IPv6 network.
func onLink(rp *RouterPort, ip netip.Addr) bool {
	for _, a := range rp.addrs {
		if a.Prefix.Masked().Contains(ip) || (ip.IsLinkLocalUnicast() && ip.Is6() && a.Prefix.Addr().Is6()) {
			return true
		}
	}
	return false
}

func networksOf(rp *RouterPort) string {
	return fmt.Sprint(rp.a.strs("networks"))
}

// routeBFD sets the bfd column of the static route a to v: a session from
// bfd(), or True for the session of the route's nexthop on out (or on the
// router's port whose network holds the nexthop), declared now if need be
// (ovn-nbctl lr-route-add --bfd reuses or creates that row the same way).
func routeBFD(c *interp.Call, r *Router, a *Row, out *RouterPort, nexthop string, v starlark.Value) error {
	if b, isBool := v.(starlark.Bool); v == nil || v == starlark.None || (isBool && !bool(b)) {
		return nil
	}
	if nexthop == "discard" {
		return c.Errorf("bfd: a discard route has no nexthop to watch")
	}
	hop, err := interp.ParseIP(nexthop)
	if err != nil {
		return c.Errorf("bfd: %v", err)
	}
	var s *BFD
	switch v := v.(type) {
	case *BFD:
		s = v
		switch {
		case s.dstIP.String() != nexthop:
			// ovn-northd ignores the session then (it compares the strings).
			return c.Errorf("bfd: the session watches %s, not the nexthop %s (ovn-northd uses a session only for a nexthop written as its dst_ip)", s.dstIP, nexthop)
		case out != nil && s.port != out:
			return c.Errorf("bfd: the session runs on port %s, not on output_port %s", s.port.name, out.name)
		case s.port.router != r:
			return c.Errorf("bfd: the session runs on port %s of router %s, not of %s", s.port.name, s.port.router.name, r.name)
		}
	case starlark.Bool:
		port := out
		if port == nil {
			if port, err = connectedPort(c, r, hop.Addr); err != nil {
				return err
			}
		} else if !onLink(port, hop.Addr) {
			return c.Errorf("bfd: nexthop %s is in no network of output_port %s (%s): BFD watches a directly connected peer", nexthop, port.name, networksOf(port))
		}
		if s = bfdSessions(c)[bfdKey(port.name, hop)]; s == nil {
			if s, err = addBFD(c, port, hop, map[string]any{"logical_port": port.name, "dst_ip": nexthop}); err != nil {
				return err
			}
		}
	default:
		return c.Errorf("bfd: got %s, want True or the value returned by bfd()", v.Type())
	}
	a.Cols["bfd"] = rowRef{s.a.M.ID}
	a.M.DependsOn = append(a.M.DependsOn, s.a.M.ID)
	return nil
}

// connectedPort returns the port of r whose network holds ip.
func connectedPort(c *interp.Call, r *Router, ip netip.Addr) (*RouterPort, error) {
	var found []*RouterPort
	st := stateOf(c)
	for _, name := range sortedKeys(st.routerPorts) {
		if p := st.routerPorts[name]; p.router == r && onLink(p, ip) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, c.Errorf("bfd: no port of router %s has a network holding the nexthop %s; give output_port=", r.name, ip)
	case 1:
		return found[0], nil
	}
	return nil, c.Errorf("bfd: ports %s and %s of router %s both hold the nexthop %s; give output_port=", found[0].name, found[1].name, r.name, ip)
}
