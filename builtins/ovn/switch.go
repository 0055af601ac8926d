package ovn

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
)

// The switch tables. A port's switch references it through ports.
var (
	tableSwitch = describe(&Table{Name: "Logical_Switch", Builtin: "ls()", Key: []string{"name"},
		Columns:  []string{"other_config", "external_ids"},
		Describe: describeSwitch})
	switchPorts     = &Ref{Table: "Logical_Switch", Column: "ports", Field: "switch"}
	tableSwitchPort = describe(&Table{Name: "Logical_Switch_Port", Builtin: "lsp() or localnet()", Key: []string{"name"},
		Columns: []string{"type", "addresses", "options", "parent_name", "tag_request", "dhcpv4_options",
			"dhcpv6_options", "port_security", "enabled", "ha_chassis_group", "external_ids"},
		Read: []string{"dynamic_addresses"}, In: []*Ref{switchPorts}, Describe: describeSwitchPort})
)

func describeSwitch(r *Row, b *topo.Builder) {
	s := b.Switch(r.M.Name)
	oc := r.strMap("other_config")
	s.Subnet, s.IPv6Prefix = oc["subnet"], oc["ipv6_prefix"]
}

func describeSwitchPort(r *Row, b *topo.Builder) {
	s := b.Switch(r.parent(switchPorts))
	opts := r.strMap("options")
	s.Ports = append(s.Ports, &topo.SwitchPort{
		Name: r.M.Name, Type: r.str("type"), Addresses: slices.Clone(r.strs("addresses")),
		RouterPort: opts["router-port"], NetworkName: opts["network_name"],
	})
}

// ls(name, subnet=, ipv6_prefix=, exclude_ips=, other_config=, external_ids=)
func lsBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name                     interp.Name
		subnet                   interp.CIDR
		ipv6Prefix               interp.IP
		excludeIPs               interp.StringList
		otherConfig, externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "subnet?", &subnet, "ipv6_prefix?", &ipv6Prefix,
		"exclude_ips?", &excludeIPs, "other_config?", &otherConfig, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if subnet.IsSet() && !subnet.Is4() {
		return nil, c.Errorf("subnet %s: want an IPv4 network (OVN assigns dynamic IPv6 addresses from ipv6_prefix)", subnet)
	}
	if ipv6Prefix.IsSet() && ipv6Prefix.Is4() {
		return nil, c.Errorf("ipv6_prefix %s: want an IPv6 prefix address such as 2001:db8:1::0", ipv6Prefix)
	}
	if len(excludeIPs) > 0 && !subnet.IsSet() {
		return nil, c.Errorf("exclude_ips needs subnet: OVN excludes addresses from the dynamic range of the subnet")
	}
	for _, x := range excludeIPs {
		if err := checkExcludeIP(subnet, x); err != nil {
			return nil, c.Errorf("exclude_ips: %v", err)
		}
	}
	oc := map[string]string{}
	for k, v := range otherConfig {
		oc[k] = v
	}
	for key, set := range map[string]bool{"subnet": subnet.IsSet(), "ipv6_prefix": ipv6Prefix.IsSet(), "exclude_ips": len(excludeIPs) > 0} {
		if _, dup := otherConfig[key]; dup && set {
			return nil, c.Errorf("other_config[%q] repeats the %s= argument; give it once", key, key)
		}
	}
	if subnet.IsSet() {
		oc["subnet"] = subnet.String()
	}
	if ipv6Prefix.IsSet() {
		oc["ipv6_prefix"] = ipv6Prefix.String()
	}
	if len(excludeIPs) > 0 {
		oc["exclude_ips"] = strings.Join(excludeIPs, " ")
	}
	a := newRow(tableSwitch, string(name), map[string]any{"other_config": oc, "external_ids": externalIDs})
	if err := c.Add(a); err != nil {
		return nil, err
	}
	sw := &Switch{handle: handle{"logical_switch", string(name)}, a: a, subnet: subnet, ipv6: ipv6Prefix}
	stateOf(c).switches[string(name)] = sw
	return sw, nil
}

// checkExcludeIP validates one exclude_ips entry: an address or a range
// "A..B" inside subnet.
func checkExcludeIP(subnet interp.CIDR, x string) error {
	lo, hi, isRange := strings.Cut(x, "..")
	for _, s := range []string{lo, hi} {
		if !isRange && s == hi {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return fmt.Errorf("invalid IPv4 address %q", s)
		}
		if !subnet.Prefix.Contains(a) {
			return fmt.Errorf("%s is outside subnet %s", a, subnet)
		}
	}
	return nil
}

// ipsArg is the ips= argument of lsp(): "dynamic", or a list of static
// addresses, which may include "unknown" (the port also receives frames for
// unknown MACs).
type ipsArg struct {
	dynamic, unknown bool
	ips              []interp.IP
}

func (a *ipsArg) Unpack(v starlark.Value) error {
	if s, ok := starlark.AsString(v); ok && s == "dynamic" {
		a.dynamic = true
		return nil
	}
	var l interp.StringList
	if err := l.Unpack(v); err != nil {
		return fmt.Errorf(`got %s, want "dynamic" or a list of IP addresses`, v.Type())
	}
	for _, s := range l {
		if s == "unknown" {
			a.unknown = true
			continue
		}
		ip, err := interp.ParseIP(s)
		if err != nil {
			return fmt.Errorf(`%v (want "dynamic", IP addresses or "unknown")`, err)
		}
		a.ips = append(a.ips, ip)
	}
	return nil
}

// lspTypes are the Logical_Switch_Port types lsp() accepts; localnet ports
// have their own builtin because they need network_name.
var lspTypes = map[string]bool{"": true, "router": true, "localport": true, "external": true,
	"virtual": true, "remote": true, "vtep": true, "l2gateway": true}

// lsp(switch, name, mac=, ips=, addresses=, type=, options=, parent=, tag=, dhcpv4=, dhcpv6=,
// port_security=, enabled=, ha_chassis_group=, external_ids=)
func lspBuiltin(c *interp.Call) (starlark.Value, error) {
	// The arguments are unpacked into one struct: Unpack takes pointers, so
	// fifteen variables would be fifteen heap allocations per port.
	var a struct {
		swv, dhcpv4, dhcpv6, parent starlark.Value
		haGroup                     starlark.Value
		name                        interp.Name
		mac                         macArg
		ips                         ipsArg
		addresses                   interp.StringList
		typ                         string
		options, externalIDs        interp.StringMap
		portSecurity                interp.StringList
		enabled, tagv               starlark.Value
	}
	if err := c.Unpack(2, "switch", &a.swv, "name", &a.name, "mac?", &a.mac, "ips?", &a.ips, "addresses?", &a.addresses,
		"type?", &a.typ, "options?", &a.options, "parent?", &a.parent, "tag?", &a.tagv, "dhcpv4?", &a.dhcpv4, "dhcpv6?", &a.dhcpv6,
		"port_security?", &a.portSecurity, "enabled?", &a.enabled, "ha_chassis_group?", &a.haGroup,
		"external_ids?", &a.externalIDs); err != nil {
		return nil, err
	}
	swv, dhcpv4, dhcpv6, parent, haGroup := a.swv, a.dhcpv4, a.dhcpv6, a.parent, a.haGroup
	name, mac, ips, addresses, typ := a.name, a.mac, a.ips, a.addresses, a.typ
	options, externalIDs, portSecurity, enabled, tagv := a.options, a.externalIDs, a.portSecurity, a.enabled, a.tagv
	if !lspTypes[typ] {
		if typ == "localnet" {
			return nil, c.Errorf(`type "localnet": use localnet(switch, name, network_name=) instead`)
		}
		return nil, c.Errorf("type %q: unknown logical switch port type", typ)
	}
	st := stateOf(c)
	sw, err := st.switchRef(c, "switch", swv)
	if err != nil {
		return nil, err
	}
	p := newRow(tableSwitchPort, string(name), nil, sw.a.M.ID)
	p.link(switchPorts, sw.name)
	// The columns go straight into the row, made canonical in place below:
	// copying them from a map of their own cost a map insert each.
	cols := p.Cols
	cols["type"], cols["options"], cols["external_ids"] = typ, options, externalIDs
	if len(addresses) > 0 {
		if mac.IsSet() || mac.router || ips.dynamic || ips.unknown || len(ips.ips) > 0 {
			return nil, c.Errorf("addresses= is the whole addresses column; give it or mac=/ips=, not both")
		}
		for _, a := range addresses {
			if err := checkAddress(a); err != nil {
				return nil, c.Errorf("addresses: %v", err)
			}
		}
		cols["addresses"] = []string(addresses)
	} else if err := setAddresses(c, cols, sw, mac, ips); err != nil {
		return nil, err
	}
	for _, ps := range portSecurity {
		if err := checkPortSecurity(ps); err != nil {
			return nil, c.Errorf("port_security: %v", err)
		}
	}
	cols["port_security"] = []string(portSecurity)
	if enabled != nil {
		b, ok := enabled.(starlark.Bool)
		if !ok {
			return nil, c.Errorf("enabled: got %s, want bool", enabled.Type())
		}
		cols["enabled"] = bool(b)
	}
	if parent != nil {
		pname, ok := starlark.AsString(parent)
		if pp, isPort := parent.(*Port); isPort {
			pname, ok = pp.name, true
			p.M.DependsOn = append(p.M.DependsOn, pp.a.M.ID)
		}
		if !ok || pname == "" {
			return nil, c.Errorf("parent: got %s, want the port (or its name) of the VM the container runs in", parent.Type())
		}
		if pname == string(name) {
			return nil, c.Errorf("parent: a port cannot be its own parent")
		}
		cols["parent_name"] = pname
	}
	if tagv != nil {
		tag, err := starlark.AsInt32(tagv)
		if err != nil {
			return nil, c.Errorf("tag: got %s, want int", tagv.Type())
		}
		if parent == nil {
			return nil, c.Errorf("tag= is the VLAN of a container port and needs parent= (a localnet port's VLAN is localnet(tag=))")
		}
		if tag < 1 || tag > 4095 {
			return nil, c.Errorf("tag %d: want a VLAN ID from 1 to 4095", tag)
		}
		cols["tag_request"] = tag
	}
	for _, col := range []string{"dhcpv4_options", "dhcpv6_options"} {
		v, v4 := dhcpv4, true
		if col == "dhcpv6_options" {
			v, v4 = dhcpv6, false
		}
		id, err := dhcpRef(c, col[:6], v, v4)
		if err != nil {
			return nil, err
		}
		if id != "" {
			cols[col] = rowRef{id}
			p.M.DependsOn = append(p.M.DependsOn, id)
		}
	}
	for k, v := range cols {
		cols[k] = canon(v)
	}
	if haGroup != nil {
		// ovn-northd reads the column of external ports only.
		if typ != "external" {
			return nil, c.Errorf(`ha_chassis_group= is for ports of type "external" (ovn-northd ignores it on others)`)
		}
		if err := setHAChassisGroup(c, p, haGroup); err != nil {
			return nil, err
		}
	}
	return addPort(c, sw, p, mac.MAC, ips)
}

// macArg is the mac= argument of lsp(): a MAC, or "router" for the
// addresses "router" of a port of type router (ovn-northd takes them from
// the router port).
type macArg struct {
	interp.MAC
	router bool
}

func (m *macArg) Unpack(v starlark.Value) error {
	if s, ok := starlark.AsString(v); ok && s == "router" {
		m.router = true
		return nil
	}
	return m.MAC.Unpack(v)
}

// setAddresses fills the addresses column the way ovn-nbctl lsp-set-addresses
// would be called for it: "MAC dynamic", "MAC IP...", "MAC", "router",
// with "unknown" as a further entry.
func setAddresses(c *interp.Call, cols map[string]any, sw *Switch, mac macArg, ips ipsArg) error {
	if mac.router {
		if ips.dynamic || len(ips.ips) > 0 {
			return c.Errorf(`mac="router" takes the addresses of the peer router port; ips= goes with a MAC`)
		}
		if t, _ := cols["type"].(string); t != "router" {
			return c.Errorf(`mac="router" is for ports of type "router" (ovn-northd reads the addresses from options:router-port)`)
		}
	}
	if (ips.dynamic || len(ips.ips) > 0) && !mac.IsSet() {
		return c.Errorf("ips= needs mac=: OVN addresses are written \"MAC IP...\"")
	}
	for _, ip := range ips.ips {
		if ip.Is4() && sw.subnet.IsSet() && !sw.subnet.Prefix.Contains(ip.Addr) {
			return c.Errorf("ips: %s is outside subnet %s of switch %s", ip, sw.subnet, sw.name)
		}
	}
	var addrs []string
	switch {
	case mac.router:
		addrs = []string{"router"}
	case ips.dynamic:
		addrs = []string{mac.String() + " dynamic"}
	case len(ips.ips) > 0:
		parts := []string{mac.String()}
		for _, ip := range ips.ips {
			parts = append(parts, ip.String())
		}
		addrs = []string{strings.Join(parts, " ")}
	case mac.IsSet():
		addrs = []string{mac.String()}
	}
	if ips.unknown {
		addrs = append(addrs, "unknown")
	}
	cols["addresses"] = addrs
	return nil
}

// checkAddress validates one entry of a port's addresses column, as
// ovn-nbctl lsp-set-addresses does: "unknown", "router", "dynamic", or a
// MAC followed by "dynamic" or IP addresses.
func checkAddress(a string) error {
	switch a {
	case "unknown", "router", "dynamic":
		return nil
	}
	f := strings.Fields(a)
	if len(f) == 0 {
		return fmt.Errorf("empty entry")
	}
	if _, err := interp.ParseMAC(f[0]); err != nil {
		return fmt.Errorf("%q: %v (want unknown, router, dynamic or \"MAC [dynamic|IP...]\")", a, err)
	}
	for _, x := range f[1:] {
		if x == "dynamic" && len(f) == 2 {
			continue
		}
		if _, err := interp.ParseIP(x); err != nil {
			return fmt.Errorf("%q: %v", a, err)
		}
	}
	return nil
}

// checkPortSecurity validates "MAC [IP/len...]".
func checkPortSecurity(s string) error {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return fmt.Errorf("empty entry")
	}
	if _, err := interp.ParseMAC(fields[0]); err != nil {
		return err
	}
	for _, f := range fields[1:] {
		if _, err := netip.ParsePrefix(f); err != nil {
			if _, err := netip.ParseAddr(f); err != nil {
				return fmt.Errorf("invalid address %q", f)
			}
		}
	}
	return nil
}

// addPort declares p on sw and returns its handle.
func addPort(c *interp.Call, sw *Switch, p *Row, mac interp.MAC, ips ipsArg) (*Port, error) {
	st := stateOf(c)
	if pos, taken := st.portNameTaken(p.M.Name); taken {
		return nil, c.Errorf("port %q is already declared at %s (switch and router ports share one namespace)", p.M.Name, pos)
	}
	if err := checkPortAddresses(c, st, sw, p); err != nil {
		return nil, err
	}
	if err := c.Add(p); err != nil {
		return nil, err
	}
	// OVN assigns a dynamic IPv4 address only from the switch's subnet, and a
	// dynamic IPv6 address only from its ipv6_prefix.
	port := &Port{handle: handle{"logical_switch_port", p.M.Name}, a: p, sw: sw, mac: mac,
		dynamic4: ips.dynamic && sw.subnet.IsSet(), dynamic6: ips.dynamic && sw.ipv6.IsSet()}
	for _, ip := range ips.ips {
		if ip.Is4() {
			port.ipv4 = append(port.ipv4, ip.String())
		} else {
			port.ipv6 = append(port.ipv6, ip.String())
		}
	}
	st.ports[p.M.Name] = port
	c.Ev.DeclarePort(port)
	return port, nil
}

// localnet(switch, name, network_name=, tag=)
func localnetBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		swv         starlark.Value
		name        interp.Name
		networkName interp.Name
		tag         int
		options     interp.StringMap
		externalIDs interp.StringMap
	)
	if err := c.Unpack(2, "switch", &swv, "name", &name, "network_name", &networkName, "tag?", &tag,
		"options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if tag < 0 || tag > 4095 {
		return nil, c.Errorf("tag %d: want a VLAN ID from 1 to 4095", tag)
	}
	if _, dup := options["network_name"]; dup {
		return nil, c.Errorf(`options["network_name"] repeats network_name=; give it once`)
	}
	sw, err := stateOf(c).switchRef(c, "switch", swv)
	if err != nil {
		return nil, err
	}
	opts := maps.Clone(map[string]string(options))
	if opts == nil {
		opts = map[string]string{}
	}
	opts["network_name"] = string(networkName)
	cols := map[string]any{"type": "localnet", "addresses": []string{"unknown"}, "options": opts, "external_ids": externalIDs}
	if tag != 0 {
		cols["tag_request"] = tag
	}
	p := newRow(tableSwitchPort, string(name), cols, sw.a.M.ID)
	p.link(switchPorts, sw.name)
	return addPort(c, sw, p, interp.MAC{}, ipsArg{})
}
