package ovn

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// A DNS row has no name and may serve several switches, each of which
// references it through dns_records. ovnrun finds its own by the ownership
// tag; with --adopt, a row another tool made with the same records on the
// first of the switches.
var (
	switchDNS = &Ref{Table: "Logical_Switch", Column: "dns_records", Field: "switches", Many: true}
	tableDNS  = describe(&Table{Name: "DNS", Builtin: "dns()", Key: []string{"records"},
		Columns: []string{"records", "external_ids"}, In: []*Ref{switchDNS}})
)

var _ = family(interp.Builtin{Domain: "ovn", Name: "dns", Signature: "dns(name=, records=, switches=, external_ids=)", Fn: dnsBuiltin,
	Doc: `Declares a DNS row with records= (a dict of a host name to its address or list of addresses,
or of a reverse name such as "5.1.16.172.in-addr.arpa" to a host name) on each of switches= (switches
or their names): ovn-controller answers the DNS queries of those switches' ports for these names.
ovn-nbctl has no command of its own for it: create DNS records=... then add Logical_Switch SWITCH
dns_records UUID for each switch. DNS rows have no name column; name= names the row in the plan (by
default the switches' names joined by ","), so that two rows on the same switches need a name each.`})

// dns(name=, records=, switches=, external_ids=)
func dnsBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        interp.Name
		records     *starlark.Dict
		switches    *starlark.List
		externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name?", &name, "records", &records, "switches", &switches,
		"external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	recs := map[string]string{}
	for _, kv := range records.Items() {
		host, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, c.Errorf("records: key %s: got %s, want a host name", kv[0], kv[0].Type())
		}
		v, err := dnsRecord(host, kv[1])
		if err != nil {
			return nil, c.Errorf("records[%q]: %v", host, err)
		}
		// ovn-northd matches names without regard to case; two keys that
		// differ only in case would shadow each other.
		for other := range recs {
			if strings.EqualFold(other, host) {
				return nil, c.Errorf("records: %q and %q are the same name (DNS names are not case sensitive)", other, host)
			}
		}
		recs[host] = v
	}
	if len(recs) == 0 {
		return nil, c.Errorf("records: want at least one name, such as {\"vm1.example.org\": \"172.16.1.5\"}")
	}
	if switches.Len() == 0 {
		return nil, c.Errorf("switches: want at least one switch; a DNS row serves the ports of the switches that use it")
	}
	st := stateOf(c)
	var names, deps []string
	for i := range switches.Len() {
		sw, err := st.switchRef(c, "switches", switches.Index(i))
		if err != nil {
			return nil, err
		}
		if slices.Contains(names, sw.name) {
			return nil, c.Errorf("switches: %s is given twice", sw.name)
		}
		names = append(names, sw.name)
		deps = append(deps, sw.a.M.ID)
	}
	if name == "" {
		name = interp.Name(strings.Join(slices.Sorted(slices.Values(names)), ","))
	}
	a := newRow(tableDNS, string(name), map[string]any{"records": recs, "external_ids": externalIDs}, deps...)
	for _, n := range names {
		a.link(switchDNS, n)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// dnsRecord checks one record and returns the value OVN stores: the
// addresses of a host name, or the host name of a reverse name, separated
// by spaces.
func dnsRecord(host string, v starlark.Value) (string, error) {
	if err := checkDNSName(host); err != nil {
		return "", err
	}
	var vals interp.StringList
	if err := vals.Unpack(v); err != nil || len(vals) == 0 {
		return "", fmt.Errorf("got %s, want an address or a list of addresses", v.Type())
	}
	reverse := strings.HasSuffix(strings.ToLower(host), ".in-addr.arpa") || strings.HasSuffix(strings.ToLower(host), ".ip6.arpa")
	for i, s := range vals {
		if reverse {
			if err := checkDNSName(s); err != nil {
				return "", fmt.Errorf("a reverse name maps to host names: %v", err)
			}
			continue
		}
		ip, err := interp.ParseIP(s)
		if err != nil {
			return "", err
		}
		vals[i] = ip.String()
	}
	return strings.Join(vals, " "), nil
}

// checkDNSName accepts a host name of labels of letters, digits, '-' and
// '_', separated by dots.
func checkDNSName(s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("%q: want a host name of 1 to 253 characters", s)
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q: empty or longer than 63 characters between dots", s)
		}
		if i := strings.IndexFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}); i >= 0 {
			return fmt.Errorf("%q: %q is not a letter, digit, '-' or '_'", s, label[i])
		}
	}
	return nil
}
