package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// What a trace reads from the OVN databases besides ovn-trace's output:
// the southbound port bindings (which chassis each port is on, the router
// ports' MACs and networks) and, for dynamic addresses, the northbound
// ports. Both come as the JSON that `ovn-sbctl --format=json list` prints,
// read by pure functions.

// Southbound is what a trace needs of the southbound database.
type Southbound struct {
	// Ports are the Port_Binding rows by logical port name.
	Ports map[string]PortBinding
}

// PortBinding is a row of the southbound Port_Binding table.
type PortBinding struct {
	Type     string // "" (a VM interface), patch, localnet, chassisredirect...
	Datapath string // Datapath_Binding UUID
	Chassis  string // the name of the chassis it is bound to, "" if none
	MACs     []string
	Options  map[string]string
}

// The commands run on a central host and read its own databases, which may
// be followers of a cluster (central(cluster=) in @stdlib//lab.star): they
// accept any member (--no-leader-only); a follower's rows are replicated
// from the leader.

// sbQuery prints the Chassis and Port_Binding tables as two JSON documents.
var sbQuery = []string{"ovn-sbctl", "--no-leader-only", "--format=json", "--columns=_uuid,name", "list", "Chassis",
	"--", "--columns=logical_port,type,datapath,chassis,mac,options", "list", "Port_Binding"}

// syncNB waits until ovn-northd has brought the southbound database up to
// date with the northbound.
var syncNB = []string{"ovn-nbctl", "--no-leader-only", "--timeout=10", "--wait=sb", "sync"}

// nbQuery prints every logical switch port's dynamic addresses.
var nbQuery = []string{"ovn-nbctl", "--no-leader-only", "--format=json", "--columns=name,dynamic_addresses", "list", "Logical_Switch_Port"}

// ParseSouthbound reads the output of sbQuery.
func ParseSouthbound(out string) (*Southbound, error) {
	tables, err := parseTables(out)
	if err != nil {
		return nil, err
	}
	if len(tables) != 2 {
		return nil, fmt.Errorf("reading the database's JSON, line %d: ovn-sbctl printed %d tables, want Chassis and Port_Binding", lineAt(out, len(out)), len(tables))
	}
	chassis := map[string]string{} // UUID -> name
	for _, r := range tables[0] {
		chassis[str(r["_uuid"])] = str(r["name"])
	}
	sb := &Southbound{Ports: map[string]PortBinding{}}
	for _, r := range tables[1] {
		opts, _ := r["options"].(map[string]string)
		sb.Ports[str(r["logical_port"])] = PortBinding{Type: str(r["type"]), Datapath: str(r["datapath"]),
			Chassis: chassis[str(r["chassis"])], MACs: strs(r["mac"]), Options: opts}
	}
	return sb, nil
}

// ParseDynamicAddresses reads the output of nbQuery into port name ->
// dynamic_addresses ("MAC IPv4 [IPv6]").
func ParseDynamicAddresses(out string) (map[string]string, error) {
	tables, err := parseTables(out)
	if err != nil {
		return nil, err
	}
	if len(tables) != 1 {
		return nil, fmt.Errorf("reading the database's JSON, line %d: ovn-nbctl printed %d tables, want Logical_Switch_Port", lineAt(out, len(out)), len(tables))
	}
	dyn := map[string]string{}
	for _, r := range tables[0] {
		if d := str(r["dynamic_addresses"]); d != "" {
			dyn[str(r["name"])] = d
		}
	}
	return dyn, nil
}

// addressIPv4 is the IPv4 address in an addresses entry ("MAC IP..."), if
// any.
func addressIPv4(entry string) (netip.Addr, bool) {
	for _, f := range strings.Fields(entry) {
		if a, err := netip.ParseAddr(f); err == nil && a.Is4() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// NextHopMAC is the eth.dst of a packet that port sends from src to dst: the
// MAC of the router port on the port's switch whose network holds src,
// unless that network also holds dst (then dstMAC, the destination's own).
// Without a router port the destination is on the switch itself.
func (sb *Southbound) NextHopMAC(port string, src, dst netip.Addr, dstMAC string) (string, error) {
	pb, ok := sb.Ports[port]
	if !ok {
		return "", fmt.Errorf("logical port %q is not in the southbound database (is ovn-northd running, and the port declared?)", port)
	}
	var first string
	for _, p := range sb.Ports {
		peer := sb.Ports[p.Options["peer"]]
		if p.Datapath != pb.Datapath || p.Type != "patch" || len(peer.MACs) == 0 {
			continue
		}
		fields := strings.Fields(peer.MACs[0])
		if len(fields) < 2 {
			continue
		}
		if first == "" || fields[0] < first {
			first = fields[0]
		}
		for _, n := range fields[1:] {
			if pfx, err := netip.ParsePrefix(n); err == nil && pfx.Contains(src) {
				if pfx.Contains(dst) {
					return onLinkMAC(dstMAC), nil
				}
				return fields[0], nil
			}
		}
	}
	if first != "" {
		return first, nil
	}
	return onLinkMAC(dstMAC), nil
}

// MACOf is the MAC of the port on the same switch as port whose static
// addresses hold ip, for a destination given as an address: "" if none.
func (sb *Southbound) MACOf(port string, ip netip.Addr) string {
	dp := sb.Ports[port].Datapath
	for _, p := range sb.Ports {
		if p.Datapath != dp {
			continue
		}
		for _, entry := range p.MACs {
			if a, ok := addressIPv4(entry); ok && a == ip {
				return strings.Fields(entry)[0]
			}
		}
	}
	return ""
}

// onLinkMAC is the destination's MAC, or broadcast when it is not known:
// ovn-trace then shows the packet flooded on the switch.
func onLinkMAC(mac string) string {
	if mac == "" {
		return "ff:ff:ff:ff:ff:ff"
	}
	return mac
}

// ChassisOf is the chassis port is bound to, "" if none.
func (sb *Southbound) ChassisOf(port string) string { return sb.Ports[port].Chassis }

// parseTables reads consecutive `--format=json` tables into rows of
// decoded values: string, float64, bool, []string (a set) or
// map[string]string (a map); a UUID is its string. An error names the line
// of out it stopped at.
func parseTables(out string) ([][]map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(out))
	var tables [][]map[string]any
	for {
		// Where this table starts: offsets in errors about its contents
		// count from there.
		start := int(dec.InputOffset())
		start += len(out[start:]) - len(strings.TrimLeft(out[start:], " \t\r\n"))
		at := func(off int, err error) error {
			return fmt.Errorf("reading the database's JSON, line %d: %w", lineAt(out, off), err)
		}
		var t struct {
			Headings []string            `json:"headings"`
			Data     [][]json.RawMessage `json:"data"`
		}
		err := dec.Decode(&t)
		var (
			syntax *json.SyntaxError
			typ    *json.UnmarshalTypeError
		)
		switch {
		case errors.Is(err, io.EOF):
			return tables, nil
		case errors.As(err, &syntax):
			return nil, at(int(syntax.Offset), err) // counted from the start of out
		case errors.As(err, &typ):
			return nil, at(start+int(typ.Offset), err)
		case err != nil:
			return nil, at(len(out), err)
		}
		rows := make([]map[string]any, len(t.Data))
		for i, d := range t.Data {
			if len(d) != len(t.Headings) {
				return nil, at(start, fmt.Errorf("table %d row %d has %d values for %d columns", len(tables)+1, i+1, len(d), len(t.Headings)))
			}
			rows[i] = map[string]any{}
			for j, h := range t.Headings {
				v, err := ovsdbValue(d[j])
				if err != nil {
					return nil, at(start, fmt.Errorf("table %d row %d column %s: %w", len(tables)+1, i+1, h, err))
				}
				rows[i][h] = v
			}
		}
		tables = append(tables, rows)
	}
}

// lineAt is the line of s that holds byte offset off (counting from 1).
func lineAt(s string, off int) int {
	return 1 + strings.Count(s[:min(max(off, 0), len(s))], "\n")
}

// ovsdbValue decodes one value of the OVSDB JSON notation (RFC 7047).
func ovsdbValue(raw json.RawMessage) (any, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil {
		var atom any
		err := json.Unmarshal(raw, &atom)
		return atom, err
	}
	var tag string
	if len(pair) != 2 || json.Unmarshal(pair[0], &tag) != nil {
		return nil, fmt.Errorf("unexpected value %s", raw)
	}
	switch tag {
	case "uuid", "named-uuid":
		var s string
		err := json.Unmarshal(pair[1], &s)
		return s, err
	case "set":
		var items []json.RawMessage
		if err := json.Unmarshal(pair[1], &items); err != nil {
			return nil, err
		}
		out := []string{}
		for _, it := range items {
			v, err := ovsdbValue(it)
			if err != nil {
				return nil, err
			}
			out = append(out, fmt.Sprint(v))
		}
		return out, nil
	case "map":
		var items [][2]json.RawMessage
		if err := json.Unmarshal(pair[1], &items); err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, kv := range items {
			k, err := ovsdbValue(kv[0])
			if err != nil {
				return nil, err
			}
			v, err := ovsdbValue(kv[1])
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = fmt.Sprint(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected value %s", raw)
}

// str is a scalar column's value; an empty set (an optional column left
// unset) is "".
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []string:
		if len(v) == 1 {
			return v[0]
		}
		return ""
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// strs is a set column's values; a set of one is printed as its element.
func strs(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case string:
		return []string{v}
	}
	return nil
}
