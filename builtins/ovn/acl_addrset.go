package ovn

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Address sets are named sets of addresses that ACL matches name as $NAME.
var tableAddressSet = describe(&Table{Name: "Address_Set", Builtin: "address_set()", Key: []string{"name"},
	Columns: []string{"addresses", "external_ids"}})

var _ = family(interp.Builtin{Domain: "ovn", Name: "address_set", Signature: "address_set(name, addresses=[], external_ids=)",
	Fn: addressSetBuiltin,
	Doc: `Declares an Address_Set: a named set of addresses that ACL matches use as $name
(ip4.src == $name), like ovn-nbctl create Address_Set name=NAME addresses='A B ...'. name is ASCII
and matches [a-zA-Z_.][a-zA-Z_.0-9]*, as ovn-nb(5) requires. addresses= is a list of IPv4 or IPv6
addresses or networks (10.0.0.0/8, or a bitwise mask 10.0.0.0/255.0.0.255) or MAC addresses (with an
optional mask), all of one kind: ovn-nb(5) says a set holds addresses of the same type. A network's
host bits must be zero (OVN's lexer refuses "10.0.0.1/8"). Returns an address set with attributes
name and addresses.`})

// groupNameRE is the name ovn-nb(5) requires of address sets and port
// groups: what OVN's lexer reads after $ and @.
var groupNameRE = regexp.MustCompile(`^[a-zA-Z_.][a-zA-Z_.0-9]*$`)

func checkGroupName(c *interp.Call, name string) error {
	if !groupNameRE.MatchString(name) {
		return c.Errorf("name %q: want ASCII letters, digits, _ and . not starting with a digit, as OVN matches name it", name)
	}
	return nil
}

// AddressSet is the handle of an Address_Set.
type AddressSet struct {
	handle
	a *Row
}

func (s *AddressSet) AttrNames() []string { return []string{"addresses", "id", "name"} }

func (s *AddressSet) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(s.a.M.ID), nil
	case "name":
		return starlark.String(s.name), nil
	case "addresses":
		return stringList(s.a.strs("addresses")), nil
	}
	return nil, nil
}

// address_set(name, addresses=, external_ids=)
func addressSetBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        string
		addresses   interp.StringList
		externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "addresses?", &addresses, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if err := checkGroupName(c, name); err != nil {
		return nil, err
	}
	kind, seen := "", map[string]bool{}
	for _, s := range addresses {
		k, err := addressKind(s)
		if err != nil {
			return nil, c.Errorf("addresses: %v", err)
		}
		if kind != "" && k != kind {
			return nil, c.Errorf("addresses: %q (%s) in a set of %s addresses: ovn-nb(5) wants one type per set; declare one set per type", s, k, kind)
		}
		if seen[s] {
			return nil, c.Errorf("addresses: %q is listed twice", s)
		}
		kind, seen[s] = k, true
	}
	a := newRow(tableAddressSet, name, map[string]any{"addresses": []string(addresses), "external_ids": externalIDs})
	if err := c.Add(a); err != nil {
		return nil, err
	}
	st := stateOf(c)
	st.addressSets[name] = a
	// ovn-northd makes the SB address sets PG_ip4 and PG_ip6 of each port
	// group: an address set of that name would be ambiguous in matches.
	c.AtEnd(func() error {
		for _, suffix := range []string{"_ip4", "_ip6"} {
			if pg, ok := strings.CutSuffix(name, suffix); ok && st.portGroups[pg] != nil {
				return fmt.Errorf("name %q is the address set ovn-northd makes for port group %q (declared at %s); rename one",
					name, pg, st.portGroups[pg].M.Pos())
			}
		}
		return nil
	})
	return &AddressSet{handle: handle{"address_set", name}, a: a}, nil
}

// addressKind validates one address set entry and says what it is: "IPv4",
// "IPv6" or "MAC". Entries are an address, or an address with a prefix
// length or a bitwise mask of the same kind whose host bits are zero.
func addressKind(s string) (string, error) {
	addr, mask, masked := strings.Cut(s, "/")
	if mac, err := net.ParseMAC(addr); err == nil && len(mac) == 6 {
		if !masked {
			return "MAC", nil
		}
		m, err := net.ParseMAC(mask)
		if err != nil || len(m) != 6 {
			return "", fmt.Errorf("%q: invalid MAC mask %q", s, mask)
		}
		for i := range mac {
			if mac[i]&^m[i] != 0 {
				return "", fmt.Errorf("%q: the address has bits outside the mask", s)
			}
		}
		return "MAC", nil
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("%q: want an IPv4 or IPv6 address or network, or a MAC address", s)
	}
	kind := "IPv4"
	if !ip.Is4() {
		kind = "IPv6"
	}
	if !masked {
		return kind, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Masked() != p {
			return "", fmt.Errorf("%q: host bits are set (the network is %s)", s, p.Masked())
		}
		return kind, nil
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || m.Is4() != ip.Is4() {
		return "", fmt.Errorf("%q: invalid prefix length or %s mask %q", s, kind, mask)
	}
	a, b := ip.AsSlice(), m.AsSlice()
	for i := range a {
		if a[i]&^b[i] != 0 {
			return "", fmt.Errorf("%q: the address has bits outside the mask", s)
		}
	}
	return kind, nil
}
