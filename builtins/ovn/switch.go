package ovn

import (
	"fmt"
	"net/netip"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

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
	a := &LogicalSwitch{ActionMeta: meta(KindSwitch, string(name)), OtherConfig: oc, ExternalIDs: externalIDs}
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
// addresses.
type ipsArg struct {
	dynamic bool
	ips     []interp.IP
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
		ip, err := interp.ParseIP(s)
		if err != nil {
			return fmt.Errorf(`%v (want "dynamic" or IP addresses)`, err)
		}
		a.ips = append(a.ips, ip)
	}
	return nil
}

// lspTypes are the Logical_Switch_Port types lsp() accepts; localnet ports
// have their own builtin because they need network_name.
var lspTypes = map[string]bool{"": true, "router": true, "localport": true, "external": true,
	"virtual": true, "remote": true, "vtep": true, "l2gateway": true}

// lsp(switch, name, mac=, ips=, type=, options=, dhcpv4=, dhcpv6=, port_security=, enabled=)
func lspBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		swv, dhcpv4, dhcpv6 starlark.Value
		name                interp.Name
		mac                 interp.MAC
		ips                 ipsArg
		typ                 string
		options             interp.StringMap
		portSecurity        interp.StringList
		enabled             starlark.Value
	)
	if err := c.Unpack(2, "switch", &swv, "name", &name, "mac?", &mac, "ips?", &ips, "type?", &typ,
		"options?", &options, "dhcpv4?", &dhcpv4, "dhcpv6?", &dhcpv6,
		"port_security?", &portSecurity, "enabled?", &enabled); err != nil {
		return nil, err
	}
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
	p := &LogicalSwitchPort{ActionMeta: meta(KindSwitchPort, string(name), sw.a.M.ID),
		Switch: sw.name, Type: typ, Options: options}
	if err := setAddresses(c, p, sw, mac, ips); err != nil {
		return nil, err
	}
	for _, ps := range portSecurity {
		if err := checkPortSecurity(ps); err != nil {
			return nil, c.Errorf("port_security: %v", err)
		}
	}
	p.PortSecurity = portSecurity
	if enabled != nil {
		b, ok := enabled.(starlark.Bool)
		if !ok {
			return nil, c.Errorf("enabled: got %s, want bool", enabled.Type())
		}
		v := bool(b)
		p.Enabled = &v
	}
	if p.DHCPv4Options, err = dhcpRef(c, "dhcpv4", dhcpv4, true); err != nil {
		return nil, err
	}
	if p.DHCPv6Options, err = dhcpRef(c, "dhcpv6", dhcpv6, false); err != nil {
		return nil, err
	}
	for _, d := range []string{p.DHCPv4Options, p.DHCPv6Options} {
		if d != "" {
			p.M.DependsOn = append(p.M.DependsOn, d)
		}
	}
	return addPort(c, sw, p, mac, ips)
}

// setAddresses fills the addresses column the way ovn-nbctl lsp-set-addresses
// would be called for it: "MAC dynamic", "MAC IP...", or "MAC".
func setAddresses(c *interp.Call, p *LogicalSwitchPort, sw *Switch, mac interp.MAC, ips ipsArg) error {
	if (ips.dynamic || len(ips.ips) > 0) && !mac.IsSet() {
		return c.Errorf("ips= needs mac=: OVN addresses are written \"MAC IP...\"")
	}
	for _, ip := range ips.ips {
		if ip.Is4() && sw.subnet.IsSet() && !sw.subnet.Prefix.Contains(ip.Addr) {
			return c.Errorf("ips: %s is outside subnet %s of switch %s", ip, sw.subnet, sw.name)
		}
	}
	switch {
	case ips.dynamic:
		p.Addresses = []string{mac.String() + " dynamic"}
	case len(ips.ips) > 0:
		parts := []string{mac.String()}
		for _, ip := range ips.ips {
			parts = append(parts, ip.String())
		}
		p.Addresses = []string{strings.Join(parts, " ")}
	case mac.IsSet():
		p.Addresses = []string{mac.String()}
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
func addPort(c *interp.Call, sw *Switch, p *LogicalSwitchPort, mac interp.MAC, ips ipsArg) (*Port, error) {
	st := stateOf(c)
	if pos, taken := st.portNameTaken(p.M.Name); taken {
		return nil, c.Errorf("port %q is already declared at %s (switch and router ports share one namespace)", p.M.Name, pos)
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
	)
	if err := c.Unpack(2, "switch", &swv, "name", &name, "network_name", &networkName, "tag?", &tag); err != nil {
		return nil, err
	}
	if tag < 0 || tag > 4095 {
		return nil, c.Errorf("tag %d: want a VLAN ID from 1 to 4095", tag)
	}
	sw, err := stateOf(c).switchRef(c, "switch", swv)
	if err != nil {
		return nil, err
	}
	p := &LogicalSwitchPort{ActionMeta: meta(KindSwitchPort, string(name), sw.a.M.ID),
		Switch: sw.name, Type: "localnet", Addresses: []string{"unknown"},
		Options: map[string]string{"network_name": string(networkName)}, TagRequest: tag}
	return addPort(c, sw, p, interp.MAC{}, ipsArg{})
}
