package topo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

// nbColumns are the NB tables and columns a picture needs. A column an old
// schema lacks reads as empty.
var nbColumns = map[string][]string{
	"Logical_Switch":              {"name", "ports", "other_config"},
	"Logical_Switch_Port":         {"name", "type", "addresses", "dynamic_addresses", "options"},
	"Logical_Router":              {"name", "ports", "options", "nat", "static_routes"},
	"Logical_Router_Port":         {"name", "mac", "networks", "peer", "gateway_chassis"},
	"Gateway_Chassis":             {"name", "chassis_name", "priority"},
	"NAT":                         {"type", "external_ip", "logical_ip", "logical_port", "external_mac"},
	"Logical_Router_Static_Route": {"ip_prefix", "nexthop", "output_port"},
}

// ReadNB reads the logical topology of a live Northbound database and ties
// it to hosts (from a plan, or none). It only reads: one connection, one
// snapshot of the tables above, closed before returning. Several endpoints
// are the members of a clustered NB; the leader is read.
func ReadNB(ctx context.Context, endpoints []string, hosts []*Host, opts ...ovsdbmodel.Option) (*Topology, error) {
	source := "NB " + strings.Join(endpoints, ",")
	db, err := ovsdbmodel.Connect(ctx, endpoints, "OVN_Northbound", nbColumns, opts...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	defer db.Close()
	tables := map[string]map[string]nbRow{}
	for _, name := range slices.Sorted(maps.Keys(nbColumns)) {
		if tables[name], err = readTable(ctx, db, name); err != nil {
			return nil, fmt.Errorf("read %s: %w", source, err)
		}
	}
	return New(source, nbSwitches(tables), nbRouters(tables), hosts), nil
}

// nbRow is an NB row as column -> libovsdb native value.
type nbRow map[string]any

func readTable(ctx context.Context, db *ovsdbmodel.DB, table string) (map[string]nbRow, error) {
	t := db.Table(table)
	if t == nil {
		return nil, nil // not in this schema: nothing to show
	}
	models, err := db.List(ctx, table)
	if err != nil {
		return nil, err
	}
	rows := map[string]nbRow{}
	for _, m := range models {
		r := nbRow{}
		for _, c := range t.Columns {
			if r[c], err = ovsdbmodel.Get(m, c); err != nil {
				return nil, err
			}
		}
		rows[ovsdbmodel.UUID(m)] = r
	}
	return rows, nil
}

func nbSwitches(tables map[string]map[string]nbRow) []*Switch {
	var out []*Switch
	for _, ls := range tables["Logical_Switch"] {
		oc := ls.strMap("other_config")
		s := &Switch{Name: ls.str("name"), Subnet: oc["subnet"], IPv6Prefix: oc["ipv6_prefix"]}
		for _, uuid := range ls.strs("ports") {
			lsp, ok := tables["Logical_Switch_Port"][uuid]
			if !ok {
				continue
			}
			opts := lsp.strMap("options")
			s.Ports = append(s.Ports, &SwitchPort{
				Name: lsp.str("name"), Type: lsp.str("type"), Addresses: lsp.strs("addresses"),
				DynamicAddresses: lsp.str("dynamic_addresses"),
				RouterPort:       opts["router-port"], NetworkName: opts["network_name"],
			})
		}
		out = append(out, s)
	}
	return out
}

func nbRouters(tables map[string]map[string]nbRow) []*Router {
	var out []*Router
	for _, lr := range tables["Logical_Router"] {
		r := &Router{Name: lr.str("name")}
		if c := lr.strMap("options")["chassis"]; c != "" {
			r.Chassis = &Chassis{Name: c}
		}
		for _, uuid := range lr.strs("ports") {
			if lrp, ok := tables["Logical_Router_Port"][uuid]; ok {
				r.Ports = append(r.Ports, nbRouterPort(tables, lrp))
			}
		}
		for _, uuid := range lr.strs("nat") {
			if n, ok := tables["NAT"][uuid]; ok {
				r.NAT = append(r.NAT, NAT{Type: n.str("type"), ExternalIP: n.str("external_ip"), LogicalIP: n.str("logical_ip"),
					LogicalPort: n.str("logical_port"), ExternalMAC: n.str("external_mac")})
			}
		}
		for _, uuid := range lr.strs("static_routes") {
			if sr, ok := tables["Logical_Router_Static_Route"][uuid]; ok {
				r.Routes = append(r.Routes, Route{Prefix: sr.str("ip_prefix"), Nexthop: sr.str("nexthop"), OutputPort: sr.str("output_port")})
			}
		}
		out = append(out, r)
	}
	return out
}

func nbRouterPort(tables map[string]map[string]nbRow, lrp nbRow) *RouterPort {
	p := &RouterPort{Name: lrp.str("name"), MAC: lrp.str("mac"), Networks: lrp.strs("networks"), Peer: lrp.str("peer")}
	for _, uuid := range lrp.strs("gateway_chassis") {
		if gc, ok := tables["Gateway_Chassis"][uuid]; ok {
			p.GatewayChassis = append(p.GatewayChassis, GatewayChassis{Chassis: Chassis{Name: gc.str("chassis_name")}, Priority: gc.int("priority")})
		}
	}
	return p
}

// str returns a string column, or the value of an optional one ("" when
// empty).
func (r nbRow) str(column string) string {
	switch v := r[column].(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	case []string:
		if len(v) == 1 {
			return v[0]
		}
	}
	return ""
}

// strs returns a set of strings (or references), in the server's order.
func (r nbRow) strs(column string) []string {
	switch v := r[column].(type) {
	case []string:
		return slices.Clone(v)
	case *string:
		if v != nil {
			return []string{*v}
		}
	case string:
		if v != "" {
			return []string{v}
		}
	}
	return nil
}

func (r nbRow) strMap(column string) map[string]string {
	m, _ := r[column].(map[string]string)
	return m
}

func (r nbRow) int(column string) int {
	switch v := r[column].(type) {
	case int:
		return v
	case *int:
		if v != nil {
			return *v
		}
	}
	return 0
}
