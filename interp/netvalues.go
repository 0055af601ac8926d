package interp

import (
	"fmt"
	"net/netip"
	"strings"

	"go.starlark.net/starlark"
)

// The network value types below are parsed once, where a runbook hands them
// in, and carried typed through the plan. Each keeps the text the runbook
// wrote (after validation) because that is what lands in the database: the
// seed writes "2001:db8:1::0", and a lab engineer comparing with ovn-nbctl
// output expects to see exactly that.

// MAC is an Ethernet (EUI-48) address, stored in lowercase.
type MAC struct{ text string }

// ParseMAC validates s as xx:xx:xx:xx:xx:xx.
// It reads s in place (no split): every port declares and checks one.
func ParseMAC(s string) (MAC, error) {
	ok := len(s) == 17
	for i := 0; ok && i < len(s); i += 3 {
		ok = isHex(s[i]) && isHex(s[i+1]) && (i+2 == len(s) || s[i+2] == ':')
	}
	if !ok {
		return MAC{}, fmt.Errorf("invalid MAC address %q: want six colon-separated hex bytes", s)
	}
	return MAC{strings.ToLower(s)}, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Unpack implements starlark.Unpacker.
func (m *MAC) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want MAC address string", v.Type())
	}
	mac, err := ParseMAC(s)
	if err != nil {
		return err
	}
	*m = mac
	return nil
}

// IsSet reports whether m holds an address.
func (m MAC) IsSet() bool    { return m.text != "" }
func (m MAC) String() string { return m.text }

// IP is an IPv4 or IPv6 address.
type IP struct {
	Addr netip.Addr
	text string
}

// ParseIP validates s as an IPv4 or IPv6 address without a zone.
func ParseIP(s string) (IP, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return IP{}, fmt.Errorf("invalid IP address %q", s)
	}
	return IP{a, s}, nil
}

// Unpack implements starlark.Unpacker.
func (ip *IP) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want IP address string", v.Type())
	}
	p, err := ParseIP(s)
	if err != nil {
		return err
	}
	*ip = p
	return nil
}

func (ip IP) IsSet() bool    { return ip.text != "" }
func (ip IP) Is4() bool      { return ip.Addr.Is4() }
func (ip IP) String() string { return ip.text }

// CIDR is a network prefix such as 172.16.1.0/24: host bits must be zero.
type CIDR struct {
	Prefix netip.Prefix
	text   string
}

// ParseCIDR validates s as a network prefix.
func ParseCIDR(s string) (CIDR, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return CIDR{}, fmt.Errorf("invalid CIDR %q: want address/length, such as 172.16.1.0/24", s)
	}
	if p.Masked() != p {
		return CIDR{}, fmt.Errorf("invalid CIDR %q: host bits are set (the network is %s)", s, p.Masked())
	}
	return CIDR{p, s}, nil
}

// Unpack implements starlark.Unpacker.
func (c *CIDR) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want CIDR string", v.Type())
	}
	p, err := ParseCIDR(s)
	if err != nil {
		return err
	}
	*c = p
	return nil
}

func (c CIDR) IsSet() bool    { return c.text != "" }
func (c CIDR) Is4() bool      { return c.Prefix.Addr().Is4() }
func (c CIDR) String() string { return c.text }

// IfAddr is an interface address with its prefix length, such as a router
// port's network 172.16.1.254/24.
type IfAddr struct {
	Prefix netip.Prefix
	text   string
}

// ParseIfAddr validates s as address/length.
func ParseIfAddr(s string) (IfAddr, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return IfAddr{}, fmt.Errorf("invalid interface address %q: want address/length, such as 172.16.1.254/24", s)
	}
	return IfAddr{p, s}, nil
}

// Unpack implements starlark.Unpacker.
func (a *IfAddr) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want address/length string", v.Type())
	}
	p, err := ParseIfAddr(s)
	if err != nil {
		return err
	}
	*a = p
	return nil
}

func (a IfAddr) String() string { return a.text }

// Network returns the prefix a holds an address in.
func (a IfAddr) Network() netip.Prefix { return a.Prefix.Masked() }

// The network values are written to and read from saved plans
// (encoding.TextMarshaler) as the text the runbook wrote, validated again
// when read; the zero value is "".

func (m MAC) MarshalText() ([]byte, error)    { return []byte(m.text), nil }
func (ip IP) MarshalText() ([]byte, error)    { return []byte(ip.text), nil }
func (c CIDR) MarshalText() ([]byte, error)   { return []byte(c.text), nil }
func (a IfAddr) MarshalText() ([]byte, error) { return []byte(a.text), nil }

func (m *MAC) UnmarshalText(b []byte) error    { return unmarshalText(b, m, ParseMAC) }
func (ip *IP) UnmarshalText(b []byte) error    { return unmarshalText(b, ip, ParseIP) }
func (c *CIDR) UnmarshalText(b []byte) error   { return unmarshalText(b, c, ParseCIDR) }
func (a *IfAddr) UnmarshalText(b []byte) error { return unmarshalText(b, a, ParseIfAddr) }

func unmarshalText[T any](b []byte, v *T, parse func(string) (T, error)) error {
	if len(b) == 0 {
		var zero T
		*v = zero
		return nil
	}
	x, err := parse(string(b))
	if err != nil {
		return err
	}
	*v = x
	return nil
}
