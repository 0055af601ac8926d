package nbimport

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/interp"
)

// The switch family: dhcp(), ls(), lsp(), localnet().

// dhcpOptions declares each DHCP_Options row once, as a variable the ports
// share. Of several rows with one CIDR (Neutron makes one per port), the one
// most ports use is declared plainly and the others with dhcp(key=), named
// after their one port (or numbered).
func (w *writer) dhcpOptions() {
	users := map[string][]string{} // DHCP_Options UUID -> names of the ports using it
	for _, p := range w.st.Tables["Logical_Switch_Port"] {
		for _, col := range []string{"dhcpv4_options", "dhcpv6_options"} {
			if u := str(p, col); u != "" {
				users[u] = append(users[u], str(p, "name"))
			}
		}
	}
	byCIDR := map[netip.Prefix][]*row{}
	for _, r := range w.rows("DHCP_Options", "cidr") {
		if p, err := netip.ParsePrefix(str(r, "cidr")); err == nil {
			byCIDR[p] = append(byCIDR[p], r)
		} // else left over, reported by others()
	}
	for _, p := range slices.SortedFunc(maps.Keys(byCIDR), func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) }) {
		rows := byCIDR[p]
		// Stable: rows are sorted by cidr, then by UUID.
		slices.SortStableFunc(rows, func(a, b *row) int { return len(users[b.UUID]) - len(users[a.UUID]) })
		keys := map[string]bool{"": true}
		for i, r := range rows {
			key := ""
			if len(keys) > 1 || i > 0 {
				key = dhcpKey(users[r.UUID], i, keys)
			}
			if w.dhcpCall(p, r, key) {
				keys[key] = true
			}
		}
	}
	w.blank()
}

// dhcpKey names a second or later row of one CIDR for dhcp(key=): after
// the one port that uses it, else by its rank; a word, unique in keys.
func dhcpKey(ports []string, i int, keys map[string]bool) string {
	key := fmt.Sprintf("row%d", i+1)
	if len(ports) == 1 {
		key = strings.NewReplacer(" ", "_", "/", "_").Replace(ports[0])
	}
	for base, n := key, 2; keys[key]; n++ {
		key = fmt.Sprintf("%s_%d", base, n)
	}
	return key
}

// dhcpCall writes the dhcp() of r, a row for the CIDR p, with key= when
// key is not ""; false when dhcp() cannot say one of its options.
func (w *writer) dhcpCall(p netip.Prefix, r *row, key string) bool {
	cidr := str(r, "cidr")
	c := newCall("dhcp", quote(cidr))
	if key != "" {
		c.set("key", quote(key))
	}
	opts := smap(r, "options")
	for _, k := range slices.Sorted(mapsKeys(opts)) {
		e := dhcpValue(ovn.DHCPOptionKind(p.Addr().Is4(), k), opts[k])
		if e == "" {
			return false
		}
		c.set(k, e)
	}
	c.set("external_ids", externalIDs(r))
	name := "dhcp_" + cidr
	if key != "" {
		name += "_" + key
	}
	v := w.ident(name)
	w.line("%s = %s", v, c)
	w.vars[r.UUID], w.done[r.UUID] = v, true
	return true
}

// orNone lists names, or says there are none.
func orNone(names []string) string {
	if len(names) == 0 {
		return "no port"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// dhcpValue is the keyword argument dhcp() takes for an option's value
// (stored as text); "" when dhcp() cannot say it.
func dhcpValue(kind, v string) string {
	switch kind {
	case "uint":
		if n, err := parseUint(v); err == nil && n == v {
			return n
		}
	case "bool":
		if v == "true" || v == "false" {
			return boolLit(v == "true")
		}
	case "ips":
		if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
			return listLit(strings.Split(strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}"), ", "))
		}
		return quote(v)
	case "ip", "mac", "text":
		return quote(v)
	}
	return ""
}

// switches declares each switch with its ports, but the ports a router
// port's lrp(peer=) declares.
func (w *writer) switches() {
	w.findPeers()
	for _, s := range w.rows("Logical_Switch") {
		name := str(s, "name")
		v := w.ident(name)
		w.vars[s.UUID], w.done[s.UUID] = v, true
		w.line("%s = %s", v, w.lsCall(s))
		var ports []*row
		for _, u := range strs(s, "ports") {
			if p := w.row("Logical_Switch_Port", u); p != nil && w.peerPorts[u] == "" && w.keep("Logical_Switch_Port", p) {
				ports = append(ports, p)
			}
		}
		slices.SortFunc(ports, func(a, b *row) int { return strings.Compare(str(a, "name"), str(b, "name")) })
		for _, p := range ports {
			w.line("%s", w.portCall(v, s, p))
			w.done[p.UUID] = true
		}
		w.blank()
	}
}

func (w *writer) lsCall(s *row) *call {
	c := newCall("ls", quote(str(s, "name")))
	oc := smap(s, "other_config")
	if p, err := netip.ParsePrefix(oc["subnet"]); err == nil && p.Addr().Is4() && p.Masked() == p && p.String() == oc["subnet"] {
		c.set("subnet", quote(oc["subnet"]))
		oc = without(oc, "subnet")
		if x := oc["exclude_ips"]; x != "" && !strings.Contains(x, "  ") {
			c.set("exclude_ips", listLit(strings.Fields(x)))
			oc = without(oc, "exclude_ips")
		}
	}
	if a, err := netip.ParseAddr(oc["ipv6_prefix"]); err == nil && a.Is6() && a.String() == oc["ipv6_prefix"] {
		c.set("ipv6_prefix", quote(oc["ipv6_prefix"]))
		oc = without(oc, "ipv6_prefix")
	}
	return c.set("other_config", dictLit(oc)).set("external_ids", externalIDs(s))
}

// portCall writes a switch port: localnet() for a plain localnet port,
// lsp() for the others.
func (w *writer) portCall(sv string, s, p *row) *call {
	name, typ := str(p, "name"), str(p, "type")
	opts := smap(p, "options")
	tag, hasTag := num(p, "tag_request")
	if typ == "localnet" && opts["network_name"] != "" && slices.Equal(strs(p, "addresses"), []string{"unknown"}) &&
		str(p, "parent_name") == "" && len(strs(p, "port_security")) == 0 && !w.setAny(p, "dhcpv4_options", "dhcpv6_options", "enabled", "ha_chassis_group") {
		c := newCall("localnet", sv, quote(name)).set("network_name", quote(opts["network_name"]))
		if hasTag && tag > 0 {
			c.set("tag", intLit(tag))
		}
		return c.set("options", dictLit(without(opts, "network_name"))).set("external_ids", externalIDs(p))
	}
	c := newCall("lsp", sv, quote(name))
	w.addresses(c, s, p)
	c.set("type", strLit(typ)).set("options", dictLit(opts))
	if parent := str(p, "parent_name"); parent != "" {
		c.set("parent", quote(parent))
		if hasTag {
			c.set("tag", intLit(tag))
		}
	}
	for _, col := range []string{"dhcpv4", "dhcpv6"} {
		if u := str(p, col+"_options"); u != "" {
			c.set(col, w.vars[u])
		}
	}
	c.set("port_security", listLit(strs(p, "port_security")))
	if b, set := boolean(p, "enabled"); set {
		c.set("enabled", boolLit(b))
	}
	if u := str(p, "ha_chassis_group"); u != "" {
		c.set("ha_chassis_group", w.vars[u])
	}
	return c.set("external_ids", externalIDs(p))
}

// setAny reports whether any of the optional columns is set.
func (w *writer) setAny(r *row, cols ...string) bool {
	for _, c := range cols {
		if str(r, c) != "" {
			return true
		}
		if _, set := boolean(r, c); set {
			return true
		}
	}
	return false
}

// addresses writes a port's addresses as mac= and ips= when they say it
// exactly ("MAC", "MAC dynamic", "MAC IP...", each perhaps with "unknown"),
// else as addresses=.
func (w *writer) addresses(c *call, s, p *row) {
	addrs := slices.Clone(p.Cols["addresses"].([]string))
	if len(addrs) == 0 {
		return
	}
	slices.Sort(addrs)
	unknown := false
	if i := slices.Index(addrs, "unknown"); i >= 0 && len(addrs) == 2 {
		unknown, addrs = true, slices.Delete(addrs, i, i+1)
	}
	f := strings.Fields(addrs[0])
	if len(addrs) == 1 && f[0] == "router" && len(f) == 1 && str(p, "type") == "router" && !unknown {
		c.set("mac", quote("router"))
		return
	}
	if len(addrs) != 1 || strings.Join(f, " ") != addrs[0] || !exactMAC(f[0]) {
		c.set("addresses", listLit(p.Cols["addresses"].([]string)))
		return
	}
	subnet, _ := netip.ParsePrefix(smap(s, "other_config")["subnet"])
	var ips []string
	for _, x := range f[1:] {
		ip, err := interp.ParseIP(x)
		if x == "dynamic" && len(f) == 2 && !unknown {
			c.set("mac", quote(f[0])).set("ips", quote("dynamic"))
			return
		}
		if err != nil || ip.String() != x || ip.Is4() && subnet.IsValid() && !subnet.Contains(ip.Addr) {
			c.set("addresses", listLit(p.Cols["addresses"].([]string)))
			return
		}
		ips = append(ips, x)
	}
	if unknown {
		ips = append(ips, "unknown")
	}
	c.set("mac", quote(f[0])).set("ips", listLit(ips))
}

// exactMAC reports whether s is a MAC that mac= writes back as s.
func exactMAC(s string) bool {
	m, err := interp.ParseMAC(s)
	return err == nil && m.String() == s
}
