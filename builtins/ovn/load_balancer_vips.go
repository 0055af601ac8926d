package ovn

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// lbEndpoint is a VIP or a backend as ovn-nbctl lb-add reads it: "IP" or
// "IP:PORT", an IPv6 address bare or in brackets, and in brackets when a
// port follows ("[fd00::1]:80").
type lbEndpoint struct {
	addr netip.Addr
	port int // 0: none
}

func parseLBEndpoint(s string) (lbEndpoint, error) {
	host, port, hasPort := s, "", false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return lbEndpoint{}, fmt.Errorf("%q: missing ]", s)
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if port, hasPort = strings.CutPrefix(rest, ":"); !hasPort {
				return lbEndpoint{}, fmt.Errorf("%q: want [IPv6]:PORT", s)
			}
		}
	case strings.Count(s, ":") == 1: // more colons: a bare IPv6 address
		host, port, hasPort = strings.Cut(s, ":")
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return lbEndpoint{}, fmt.Errorf("%q: invalid IP address %q", s, host)
	}
	e := lbEndpoint{addr: addr}
	if hasPort {
		// ovn-nbctl reads port 0 as no port; a runbook leaves it out instead.
		if e.port, err = strconv.Atoi(port); err != nil || e.port < 1 || e.port > 65535 {
			return lbEndpoint{}, fmt.Errorf("%q: port %q: want 1 to 65535", s, port)
		}
	}
	return e, nil
}

// String is the form ovn-nbctl lb-add writes.
func (e lbEndpoint) String() string {
	switch {
	case e.port == 0:
		return e.addr.String()
	case e.addr.Is6():
		return fmt.Sprintf("[%s]:%d", e.addr, e.port)
	}
	return fmt.Sprintf("%s:%d", e.addr, e.port)
}

func addrFamily(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// lbVIPs is the vips= argument: VIP -> backends, normalised as ovn-nbctl
// lb-add writes them, with each VIP's backend addresses.
type lbVIPs struct {
	vips     map[string]string
	ported   []string            // VIPs with a port, sorted
	backends map[string][]string // VIP -> backend addresses (no port)
}

// Unpack reads a dict of "VIP[:PORT]" to a list of "IP[:PORT]" backends or
// a string of them separated by commas; errors follow ovn-nbctl lb-add's.
func (v *lbVIPs) Unpack(x starlark.Value) error {
	d, ok := x.(*starlark.Dict)
	if !ok {
		return fmt.Errorf(`got %s, want a dict such as {"10.0.0.10:80": ["10.0.0.2:8080"]}`, x.Type())
	}
	*v = lbVIPs{vips: map[string]string{}, backends: map[string][]string{}}
	for _, item := range d.Items() {
		k, ok := starlark.AsString(item[0])
		if !ok {
			return fmt.Errorf("key %s: got %s, want string", item[0], item[0].Type())
		}
		vip, err := parseLBEndpoint(k)
		if err != nil {
			return fmt.Errorf("VIP %v", err)
		}
		key := vip.String()
		if _, dup := v.vips[key]; dup {
			return fmt.Errorf("VIP %s is given twice", key)
		}
		var list interp.StringList
		if err := list.Unpack(item[1]); err != nil {
			return fmt.Errorf("VIP %s: %v", key, err)
		}
		var backends []string
		for _, s := range list {
			for _, b := range strings.Split(s, ",") {
				if b = strings.TrimSpace(b); b != "" {
					backends = append(backends, b)
				}
			}
		}
		out := make([]string, len(backends))
		for i, s := range backends {
			b, err := parseLBEndpoint(s)
			if err != nil {
				return fmt.Errorf("VIP %s: backend %v", key, err)
			}
			switch {
			case b.addr.Is4() != vip.addr.Is4():
				return fmt.Errorf("VIP %s: backend %s: IP address family is different from the VIP's", key, s)
			case vip.port != 0 && b.port == 0:
				return fmt.Errorf("VIP %s: backend %s: want an IP address and a port, as the VIP has one", key, s)
			case vip.port == 0 && b.port != 0:
				return fmt.Errorf("VIP %s: backend %s: want an IP address without a port, as the VIP has none", key, s)
			}
			out[i] = b.String()
			v.backends[key] = append(v.backends[key], b.addr.String())
		}
		v.vips[key] = strings.Join(out, ",")
		if vip.port != 0 {
			v.ported = append(v.ported, key)
		}
	}
	slices.Sort(v.ported)
	return nil
}

// hasBackend reports whether addr is a backend address of some VIP.
func (v *lbVIPs) hasBackend(addr string) bool {
	for _, bs := range v.backends {
		if slices.Contains(bs, addr) {
			return true
		}
	}
	return false
}

// lbHealthCheckOptions are the Load_Balancer_Health_Check options
// ovn-northd reads, all integers.
var lbHealthCheckOptions = map[string]bool{"interval": true, "timeout": true, "success_count": true, "failure_count": true}

// lbHealthCheckArg is the health_check= argument: VIP -> options.
type lbHealthCheckArg map[string]map[string]string

func (h *lbHealthCheckArg) Unpack(x starlark.Value) error {
	d, ok := x.(*starlark.Dict)
	if !ok {
		return fmt.Errorf(`got %s, want a dict such as {"10.0.0.10:80": {"interval": 5}}`, x.Type())
	}
	*h = lbHealthCheckArg{}
	for _, item := range d.Items() {
		k, ok := starlark.AsString(item[0])
		if !ok {
			return fmt.Errorf("key %s: got %s, want string", item[0], item[0].Type())
		}
		vip, err := parseLBEndpoint(k)
		if err != nil {
			return fmt.Errorf("VIP %v", err)
		}
		var opts interp.StringMap
		if err := opts.Unpack(item[1]); err != nil {
			return fmt.Errorf("VIP %s: %v", vip, err)
		}
		for _, o := range opts.Keys() {
			if !lbHealthCheckOptions[o] {
				return fmt.Errorf("VIP %s: unknown option %q; known: %s", vip, o, strings.Join(sortedKeys(lbHealthCheckOptions), ", "))
			}
			if n, err := strconv.ParseUint(opts[o], 10, 31); err != nil || n == 0 {
				return fmt.Errorf("VIP %s: %s=%q: want a positive integer", vip, o, opts[o])
			}
		}
		if _, dup := (*h)[vip.String()]; dup {
			return fmt.Errorf("VIP %s is given twice", vip)
		}
		(*h)[vip.String()] = opts
	}
	return nil
}

// checkIPPortMapping validates one ip_port_mappings entry, backend IP ->
// "PORT:SOURCE_IP" (IPv6 addresses in brackets), and returns its key as
// ovn-northd looks it up and the port it names.
func checkIPPortMapping(k, v string) (key, port string, err error) {
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(k, "["), "]"))
	if err != nil || ip.Zone() != "" {
		return "", "", fmt.Errorf("%q: want a backend IP address", k)
	}
	key = ip.String()
	if ip.Is6() {
		key = "[" + key + "]"
	}
	port, src, ok := strings.Cut(v, ":")
	if !ok || port == "" {
		return "", "", fmt.Errorf("%s=%q: want \"PORT:SOURCE_IP\", the switch port that reaches the backend and the source address of the probes", k, v)
	}
	if ip.Is6() {
		inner, isBracketed := strings.CutPrefix(src, "[")
		if inner, isBracketed = strings.CutSuffix(inner, "]"); !isBracketed {
			return "", "", fmt.Errorf("%s=%q: an IPv6 source address goes in brackets: %s:[ADDRESS]", k, v, port)
		}
		src = inner
	}
	s, err := netip.ParseAddr(src)
	if err != nil || s.Zone() != "" {
		return "", "", fmt.Errorf("%s=%q: invalid source IP address %q", k, v, src)
	}
	if s.Is4() != ip.Is4() {
		return "", "", fmt.Errorf("%s=%q: the source address is %s, the backend %s", k, v, addrFamily(s), addrFamily(ip))
	}
	return key, port, nil
}
