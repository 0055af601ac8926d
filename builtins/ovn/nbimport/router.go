package nbimport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

// The router family: ha_chassis_group(), lr(), lrp(), gateway_chassis(),
// bfd(), route(), nat(), router_policy(), static_mac_binding().

// findPeers finds, for each router port, the switch port lrp(peer=) would
// declare for it: type router, options only router-port naming it,
// addresses its MAC or "router", nothing else set.
func (w *writer) findPeers() {
	routerOf := w.parents("Logical_Router", "ports")
	byName := map[string]*row{}
	for _, r := range w.st.Tables["Logical_Router_Port"] {
		byName[str(r, "name")] = r
	}
	w.switchOf = w.parents("Logical_Switch", "ports")
	for _, sp := range w.st.Tables["Logical_Switch_Port"] {
		opts := smap(sp, "options")
		if str(sp, "type") != "router" || len(opts) != 1 || w.owned("Logical_Switch_Port", sp) {
			continue
		}
		rp := byName[opts["router-port"]]
		if rp == nil || w.peerOf[rp.UUID] != nil || w.owned("Logical_Router_Port", rp) || routerOf[rp.UUID] == nil ||
			len(strs(rp, "networks")) == 0 || !exactMAC(str(rp, "mac")) {
			continue
		}
		addrs := strs(sp, "addresses")
		if !slices.Equal(addrs, []string{str(rp, "mac")}) && !slices.Equal(addrs, []string{"router"}) {
			continue
		}
		if externalIDs(sp) != "" || str(sp, "parent_name") != "" || len(strs(sp, "port_security")) > 0 ||
			w.setAny(sp, "dhcpv4_options", "dhcpv6_options", "enabled", "ha_chassis_group") {
			continue
		}
		if _, tagged := num(sp, "tag_request"); tagged {
			continue
		}
		w.peerPorts[sp.UUID], w.peerOf[rp.UUID] = rp.UUID, sp
	}
	// A peer port whose switch is not imported stays an lsp() of its own.
	for sp, rp := range w.peerPorts {
		if s := w.switchOf[sp]; s == nil || w.owned("Logical_Switch", s) {
			delete(w.peerPorts, sp)
			delete(w.peerOf, rp)
		}
	}
}

// parents maps each row referenced through table's column to the
// referencing row.
func (w *writer) parents(table, column string) map[string]*row {
	m := map[string]*row{}
	for _, p := range w.st.Tables[table] {
		for _, u := range refs(p, column) {
			m[u] = p
		}
	}
	return m
}

// refs are the UUIDs of a reference column (a set or one optional value).
func refs(r *row, c string) []string { return ovsdbmodel.Strings(r.Cols[c]) }

func (w *writer) haChassisGroups() {
	for _, g := range w.rows("HA_Chassis_Group") {
		var parts []string
		for _, u := range refs(g, "ha_chassis") {
			if hc := w.row("HA_Chassis", u); hc != nil {
				prio, _ := num(hc, "priority")
				parts = append(parts, fmt.Sprintf("%s: %d", w.chassis(str(hc, "chassis_name")), prio))
				w.done[u] = true
			}
		}
		slices.Sort(parts)
		c := newCall("ha_chassis_group", quote(str(g, "name")))
		if len(parts) > 0 {
			c.set("chassis", "{"+strings.Join(parts, ", ")+"}")
		}
		c.set("external_ids", externalIDs(g))
		v := w.ident(str(g, "name"))
		w.line("%s = %s", v, c)
		w.vars[g.UUID], w.done[g.UUID] = v, true
	}
	w.blank()
}

// routers declares each router with its ports (and their peers), then
// its BFD sessions, routes, NAT rules and policies.
func (w *writer) routers() {
	declared := map[string]bool{} // router ports declared so far, by name
	for _, r := range w.rows("Logical_Router") {
		v := w.ident(str(r, "name"))
		w.vars[r.UUID], w.done[r.UUID] = v, true
		c := newCall("lr", quote(str(r, "name")))
		opts := smap(r, "options")
		if ch := opts["chassis"]; ch != "" {
			c.set("chassis", w.chassis(ch))
			opts = without(opts, "chassis")
		}
		w.line("%s = %s", v, c.set("options", dictLit(opts)).set("external_ids", externalIDs(r)))
		for _, p := range w.children(r, "ports", "Logical_Router_Port") {
			if peer := str(p, "peer"); peer != "" && !w.mutualPeer(p) {
				// lrp(peer=) links both ends, or refuses an end with another peer.
				w.line("# Not imported: %s's peer %s, which does not name it back: lrp(peer=) links both ends.",
					str(p, "name"), peer)
			}
			w.line("%s", w.lrpCall(v, r, p, declared))
			declared[str(p, "name")] = true
			w.gatewayChassis(p)
		}
		w.routes(v, r)
		gateway := w.isGateway(r)
		for _, n := range w.children(r, "nat", "NAT", "type", "external_ip", "logical_ip") {
			if !gateway {
				// nat() refuses it: ovn-northd makes no NAT flows for it (only
				// ARP answers for its external IP).
				w.line("# Not imported: %s has no gateway chassis, so ovn-northd makes no NAT flows for this rule:", str(r, "name"))
				w.line("# %s", strings.ReplaceAll(w.natCall(v, n).String(), "\n", "\n    # "))
				continue
			}
			w.line("%s", w.natCall(v, n))
		}
		for _, p := range w.children(r, "policies", "Logical_Router_Policy", "priority", "match") {
			c := newCall("router_policy", v, intLitOf(p, "priority"), quote(str(p, "match")), quote(str(p, "action")))
			w.line("%s", c.set("nexthops", listLit(strs(p, "nexthops"))).set("options", dictLit(smap(p, "options"))).
				set("external_ids", externalIDs(p)))
		}
		w.blank()
	}
	for _, b := range w.rows("Static_MAC_Binding", "logical_port", "ip") {
		c := newCall("static_mac_binding", quote(str(b, "logical_port")), quote(str(b, "ip")), quote(str(b, "mac")))
		if o, _ := boolean(b, "override_dynamic_mac"); o {
			c.set("override_dynamic_mac", "True")
		}
		w.line("%s", c)
		w.done[b.UUID] = true
	}
	w.blank()
}

// children returns the imported rows of table that parent references
// through column, sorted, and marks them done.
func (w *writer) children(parent *row, column, table string, sortBy ...string) []*row {
	var out []*row
	for _, u := range refs(parent, column) {
		if r := w.row(table, u); r != nil && w.keep(table, r) {
			out = append(out, r)
		}
	}
	if len(sortBy) == 0 {
		sortBy = []string{"name"}
	}
	slices.SortFunc(out, func(a, b *row) int {
		for _, c := range sortBy {
			if d := strings.Compare(fmt.Sprint(deref(a.Cols[c])), fmt.Sprint(deref(b.Cols[c]))); d != 0 {
				return d
			}
		}
		return strings.Compare(a.UUID, b.UUID)
	})
	for _, r := range out {
		w.done[r.UUID] = true
	}
	return out
}

func (w *writer) lrpCall(rv string, r, p *row, declared map[string]bool) *call {
	c := newCall("lrp", rv, quote(str(p, "name"))).set("mac", quote(str(p, "mac"))).
		set("networks", listLit(strs(p, "networks")))
	if sp := w.peerOf[p.UUID]; sp != nil {
		sw := w.switchOf[sp.UUID]
		c.set("peer", w.vars[sw.UUID])
		if n := str(sp, "name"); n != str(sw, "name")+"-"+str(r, "name") {
			c.set("peer_port", quote(n))
		}
		if slices.Equal(strs(sp, "addresses"), []string{"router"}) {
			c.set("peer_addresses", quote("router"))
		}
		w.done[sp.UUID] = true
	} else if peer := str(p, "peer"); peer != "" && declared[peer] && w.mutualPeer(p) {
		c.set("peer", quote(peer)) // the other end, declared before, names this one too
	}
	if u := str(p, "ha_chassis_group"); u != "" {
		c.set("ha_chassis_group", w.vars[u])
	}
	return c.set("options", dictLit(smap(p, "options"))).set("ipv6_ra_configs", dictLit(smap(p, "ipv6_ra_configs"))).
		set("external_ids", externalIDs(p))
}

// mutualPeer reports whether p's peer is a router port whose peer is p:
// only such a pair does ovn-northd link, and lrp(peer=) declares.
func (w *writer) mutualPeer(p *row) bool {
	if w.routerPorts == nil {
		w.routerPorts = map[string]*row{}
		for _, q := range w.st.Tables["Logical_Router_Port"] {
			w.routerPorts[str(q, "name")] = q
		}
	}
	q := w.routerPorts[str(p, "peer")]
	return q != nil && str(q, "peer") == str(p, "name")
}

func (w *writer) gatewayChassis(p *row) {
	for _, g := range w.children(p, "gateway_chassis", "Gateway_Chassis", "priority", "chassis_name") {
		c := newCall("gateway_chassis", quote(str(p, "name"))).set("chassis", w.chassis(str(g, "chassis_name")))
		if prio, _ := num(g, "priority"); prio != 0 {
			c.set("priority", intLit(prio))
		}
		w.line("%s", c.set("options", dictLit(smap(g, "options"))).set("external_ids", externalIDs(g)))
	}
}

// routes writes the BFD sessions the routes use, then the routes; a second
// route to a prefix is an ECMP route.
func (w *writer) routes(rv string, r *row) {
	seen := map[string]bool{}
	for _, s := range w.children(r, "static_routes", "Logical_Router_Static_Route", "route_table", "policy", "ip_prefix", "nexthop") {
		c := newCall("route", rv, quote(str(s, "ip_prefix")), quote(str(s, "nexthop"))).
			set("output_port", strLit(str(s, "output_port")))
		if u := str(s, "bfd"); u != "" {
			c.set("bfd", w.bfd(u))
		}
		key := str(s, "route_table") + "|" + str(s, "policy") + "|" + str(s, "ip_prefix")
		if seen[key] {
			c.set("ecmp", "True")
		}
		seen[key] = true
		w.line("%s", c.set("policy", strLit(str(s, "policy"))).set("route_table", strLit(str(s, "route_table"))).
			set("options", dictLit(smap(s, "options"))).set("external_ids", externalIDs(s)))
	}
}

// bfd declares a BFD session once and returns its variable.
func (w *writer) bfd(uuid string) string {
	if v, ok := w.vars[uuid]; ok {
		return v
	}
	b := w.row("BFD", uuid)
	if b == nil || !w.keep("BFD", b) {
		return ""
	}
	c := newCall("bfd", quote(str(b, "logical_port")), quote(str(b, "dst_ip")))
	for _, col := range []string{"min_tx", "min_rx", "detect_mult"} {
		if n, ok := num(b, col); ok {
			c.set(col, intLit(n))
		}
	}
	v := w.ident("bfd_" + str(b, "logical_port") + "_" + str(b, "dst_ip"))
	w.line("%s = %s", v, c.set("external_ids", externalIDs(b)))
	w.vars[uuid], w.done[uuid] = v, true
	return v
}

func (w *writer) natCall(rv string, n *row) *call {
	c := newCall("nat", rv).set("type", quote(str(n, "type"))).set("external_ip", quote(str(n, "external_ip"))).
		set("logical_ip", quote(str(n, "logical_ip"))).set("logical_port", strLit(str(n, "logical_port"))).
		set("external_mac", strLit(str(n, "external_mac")))
	if u := str(n, "gateway_port"); u != "" {
		if gp := w.row("Logical_Router_Port", u); gp != nil {
			c.set("gateway_port", quote(str(gp, "name")))
		}
	}
	return c.set("options", dictLit(smap(n, "options"))).set("external_ids", externalIDs(n))
}

func intLitOf(r *row, c string) string {
	n, _ := num(r, c)
	return intLit(n)
}

// deref gives the value an optional column holds, for sorting.
func deref(v any) any {
	switch v := v.(type) {
	case *string:
		if v != nil {
			return *v
		}
		return ""
	case *int:
		if v != nil {
			return *v
		}
		return 0
	}
	return v
}

// isGateway reports whether ovn-northd makes NAT flows for router r: a
// gateway router, or one with a distributed gateway port.
func (w *writer) isGateway(r *row) bool {
	if smap(r, "options")["chassis"] != "" {
		return true
	}
	for _, u := range refs(r, "ports") {
		if p := w.row("Logical_Router_Port", u); p != nil && (len(refs(p, "gateway_chassis")) > 0 || str(p, "ha_chassis_group") != "") {
			return true
		}
	}
	return false
}
