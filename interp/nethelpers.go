package interp

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"go.starlark.net/starlark"
)

// netBuiltins are the address helpers runbooks need to compute addresses in
// loops: Starlark has no %02x and no address type, and doing CIDR
// arithmetic on strings in Starlark is where lab runbooks go wrong.
func netBuiltins() []Builtin {
	return []Builtin{
		{
			Name: "mac", Signature: "mac(prefix, i)", Domain: "net", Fn: macBuiltin,
			Doc: `Returns the MAC address whose first bytes are prefix (one to five colon-separated hex bytes,
such as "02:ac:10") and whose remaining bytes are the integer i, big-endian: mac("02:ac:10", 258) is
"02:ac:10:00:01:02". i must be at least 0 and fit in the remaining bytes.`,
		},
		{
			Name: "cidr_host", Signature: "cidr_host(cidr, i)", Domain: "net", Fn: cidrHostBuiltin,
			Doc: `Returns the i-th address of the network cidr (IPv4 or IPv6; host bits of cidr are ignored):
cidr_host("10.0.0.0/24", 5) is "10.0.0.5". A negative i counts from the end: -1 is the last address
("10.0.0.255"), -2 the one before, as a gateway at .254. i outside the network is an error.`,
		},
		{
			Name: "cidr_network", Signature: "cidr_network(cidr)", Domain: "net", Fn: cidrNetworkBuiltin,
			Doc: `Returns the network address of cidr, without its length: cidr_network("10.0.1.254/24") is
"10.0.1.0", cidr_network("2001:db8:1::5/64") is "2001:db8:1::".`,
		},
		{
			Name: "cidr_prefix", Signature: "cidr_prefix(cidr)", Domain: "net", Fn: cidrPrefixBuiltin,
			Doc: `Returns the prefix length of cidr as an int: cidr_prefix("10.0.1.254/24") is 24.`,
		},
		{
			Name: "cidr_netmask", Signature: "cidr_netmask(cidr)", Domain: "net", Fn: cidrNetmaskBuiltin,
			Doc: `Returns the netmask of cidr as an address: cidr_netmask("10.0.0.0/22") is "255.255.252.0";
for IPv6, cidr_netmask("2001:db8::/64") is "ffff:ffff:ffff:ffff::".`,
		},
	}
}

func macBuiltin(c *Call) (starlark.Value, error) {
	var prefix string
	var i int64
	if err := c.Unpack(2, "prefix", &prefix, "i", &i); err != nil {
		return nil, err
	}
	parts := strings.Split(prefix, ":")
	if len(parts) < 1 || len(parts) > 5 {
		return nil, c.Errorf("prefix %q: want one to five colon-separated hex bytes", prefix)
	}
	for _, p := range parts {
		if len(p) != 2 || !isHex(p[0]) || !isHex(p[1]) {
			return nil, c.Errorf("prefix %q: want one to five colon-separated hex bytes", prefix)
		}
	}
	free := 6 - len(parts)
	if i < 0 || (free < 8 && i >= int64(1)<<(8*free)) {
		return nil, c.Errorf("%d does not fit in the %d byte(s) after prefix %q", i, free, prefix)
	}
	out := append([]string{}, parts...)
	for b := free - 1; b >= 0; b-- {
		out = append(out, fmt.Sprintf("%02x", (i>>(8*b))&0xff))
	}
	return starlark.String(strings.ToLower(strings.Join(out, ":"))), nil
}

// unpackPrefix reads the one argument cidr of the cidr_* builtins.
func unpackPrefix(c *Call, extra ...any) (netip.Prefix, error) {
	var s string
	if err := c.Unpack(1+len(extra)/2, append([]any{"cidr", &s}, extra...)...); err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, c.Errorf("invalid CIDR %q: want address/length, such as 10.0.0.0/24", s)
	}
	return p.Masked(), nil
}

func cidrHostBuiltin(c *Call) (starlark.Value, error) {
	var i int64
	p, err := unpackPrefix(c, "i", &i)
	if err != nil {
		return nil, err
	}
	bits := p.Addr().BitLen()
	size := new(big.Int).Lsh(big.NewInt(1), uint(bits-p.Bits()))
	n := big.NewInt(i)
	if i < 0 {
		n.Add(n, size)
	}
	if n.Sign() < 0 || n.Cmp(size) >= 0 {
		return nil, c.Errorf("address %d is outside %s (it has %s addresses)", i, p, size)
	}
	base := new(big.Int).SetBytes(p.Addr().AsSlice())
	buf := base.Add(base, n).FillBytes(make([]byte, bits/8))
	a, _ := netip.AddrFromSlice(buf)
	return starlark.String(a.String()), nil
}

func cidrNetworkBuiltin(c *Call) (starlark.Value, error) {
	p, err := unpackPrefix(c)
	if err != nil {
		return nil, err
	}
	return starlark.String(p.Addr().String()), nil
}

func cidrPrefixBuiltin(c *Call) (starlark.Value, error) {
	p, err := unpackPrefix(c)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(p.Bits()), nil
}

func cidrNetmaskBuiltin(c *Call) (starlark.Value, error) {
	p, err := unpackPrefix(c)
	if err != nil {
		return nil, err
	}
	mask := make([]byte, p.Addr().BitLen()/8)
	for b := 0; b < p.Bits(); b++ {
		mask[b/8] |= 0x80 >> (b % 8)
	}
	a, _ := netip.AddrFromSlice(mask)
	return starlark.String(a.String()), nil
}
