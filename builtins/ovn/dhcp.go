package ovn

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// optionKind says how a DHCP option value is checked.
// DHCP_Options rows have no name: ovnrun finds its own by the ownership
// tag, and with --adopt a row another tool made for the same CIDR.
var tableDHCP = describe(&Table{Name: "DHCP_Options", Builtin: "dhcp()", Key: []string{"cidr"},
	Columns: []string{"cidr", "options", "external_ids"}})

type optionKind int

const (
	optText optionKind = iota
	optIP              // one address of the options' family
	optIPs             // one or more addresses: a list becomes "{a, b}"
	optMAC
	optUint
	optBool
)

// dhcpv4Options and dhcpv6Options are the options ovn-northd understands
// (ovn-nb(5), DHCP_Options). Unknown keys are refused: northd would silently
// ignore them, and a typo in a lab's DHCP setup is slow to find.
var dhcpv4Options = map[string]optionKind{
	"server_id": optIP, "server_mac": optMAC, "lease_time": optUint, "router": optIP,
	"dns_server": optIPs, "netmask": optIP, "mtu": optUint, "ntp_server": optIPs,
	"domain_name": optText, "domain_search_list": optText, "hostname": optText,
	"T1": optUint, "T2": optUint, "classless_static_route": optText,
	"ms_classless_static_route": optText, "ip_forward_enable": optBool,
	"router_discovery": optBool, "ethernet_encap": optBool, "default_ttl": optUint,
	"tcp_ttl": optUint, "tcp_keepalive_interval": optUint, "arp_cache_timeout": optUint,
	"wpad": optText, "bootfile_name": optText, "bootfile_name_alt": optText,
	"path_prefix": optText, "tftp_server": optText, "tftp_server_address": optIP,
	"broadcast_address": optIP, "log_server": optIPs, "lpr_server": optIPs,
	"swap_server": optIP, "policy_filter": optText, "router_solicitation": optIP,
	"nis_server": optIPs, "next_server": optIP,
}

var dhcpv6Options = map[string]optionKind{
	"server_id": optMAC, "dns_server": optIPs, "domain_search": optText,
	"dhcpv6_stateless": optBool, "fqdn": optText,
}

// required options: northd ignores DHCP_Options rows without them.
var (
	dhcpv4Required = []string{"server_id", "server_mac", "lease_time"}
	dhcpv6Required = []string{"server_id"}
)

// dhcp(cidr, **options)
func dhcpBuiltin(c *interp.Call) (starlark.Value, error) {
	if len(c.Args) != 1 {
		return nil, c.Errorf("got %d positional arguments, want 1 (the cidr); options are keyword arguments", len(c.Args))
	}
	var cidr interp.CIDR
	if err := cidr.Unpack(c.Args[0]); err != nil {
		return nil, c.Errorf("for parameter cidr: %v", err)
	}
	known, required, family := dhcpv4Options, dhcpv4Required, "DHCPv4"
	if !cidr.Is4() {
		known, required, family = dhcpv6Options, dhcpv6Required, "DHCPv6"
	}
	opts := map[string]string{}
	var externalIDs interp.StringMap
	var rowKey string
	for _, kv := range c.Kwargs {
		key := string(kv[0].(starlark.String))
		if key == "external_ids" { // no DHCP option has this name
			if err := externalIDs.Unpack(kv[1]); err != nil {
				return nil, c.Errorf("external_ids: %v", err)
			}
			continue
		}
		if key == "key" { // nor this one
			k, ok := starlark.AsString(kv[1])
			if !ok || k == "" || strings.ContainsAny(k, " /") {
				return nil, c.Errorf("key: got %s, want a word naming this row among the rows for %s", kv[1].String(), cidr)
			}
			rowKey = k
			continue
		}
		kind, ok := known[key]
		if !ok {
			return nil, c.Errorf("%s option %q is not known to OVN; known options: %s", family, key, strings.Join(sortedKeys(known), ", "))
		}
		v, err := optionValue(kind, cidr, kv[1])
		if err != nil {
			return nil, c.Errorf("%s option %s: %v", family, key, err)
		}
		opts[key] = v
	}
	for _, key := range required {
		if _, ok := opts[key]; !ok {
			return nil, c.Errorf("%s options need %s (ovn-northd ignores rows without %s)", family, key, strings.Join(required, ", "))
		}
	}
	// Several rows for one cidr (Neutron makes one per port with options of
	// its own) are told apart by key=, in the plan as CIDR#KEY.
	name := cidr.String()
	if rowKey != "" {
		name += "#" + rowKey
	}
	a := newRow(tableDHCP, name, map[string]any{"cidr": cidr.String(), "options": opts, "external_ids": externalIDs})
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return &DHCP{handle: handle{"dhcp_options", name}, a: a, cidr: cidr}, nil
}

func optionValue(kind optionKind, cidr interp.CIDR, v starlark.Value) (string, error) {
	switch kind {
	case optIP, optIPs:
		var list interp.StringList
		if err := list.Unpack(v); err != nil || len(list) == 0 {
			return "", fmt.Errorf("got %s, want an IP address", v.Type())
		}
		if kind == optIP && len(list) > 1 {
			return "", fmt.Errorf("want one address, got %d", len(list))
		}
		for _, s := range list {
			ip, err := interp.ParseIP(s)
			if err != nil {
				return "", err
			}
			if ip.Is4() != cidr.Is4() {
				return "", fmt.Errorf("%s is not of the family of %s", ip, cidr)
			}
		}
		if len(list) == 1 {
			return list[0], nil
		}
		return "{" + strings.Join(list, ", ") + "}", nil
	case optMAC:
		var m interp.MAC
		if err := m.Unpack(v); err != nil {
			return "", err
		}
		return m.String(), nil
	case optUint:
		n, ok := v.(starlark.Int)
		if !ok {
			return "", fmt.Errorf("got %s, want int", v.Type())
		}
		if i, ok := n.Int64(); !ok || i < 0 || i > 1<<32-1 {
			return "", fmt.Errorf("%s is out of range", n)
		}
		return n.String(), nil
	case optBool:
		b, ok := v.(starlark.Bool)
		if !ok {
			return "", fmt.Errorf("got %s, want bool", v.Type())
		}
		return interp.ScalarString(b)
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return "", fmt.Errorf("got %s, want string", v.Type())
	}
	return s, nil
}

// dhcpRef checks a dhcpv4=/dhcpv6= argument and returns the action ID it
// references, or "" when the argument is absent.
func dhcpRef(c *interp.Call, param string, v starlark.Value, want4 bool) (string, error) {
	if v == nil || v == starlark.None {
		return "", nil
	}
	d, ok := v.(*DHCP)
	if !ok {
		return "", c.Errorf("%s: got %s, want the value returned by dhcp()", param, v.Type())
	}
	if d.cidr.Is4() != want4 {
		return "", c.Errorf("%s: dhcp(%q) is for the other address family", param, d.cidr)
	}
	return d.a.M.ID, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
