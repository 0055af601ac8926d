package ovn

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/topo"
)

// ReadTopology reads the logical topology of a live Northbound database and
// ties it to hosts (from a plan, or none). It reads the tables and columns of
// the driver's table descriptions (monitored) and only reads: one
// connection, one snapshot, closed before returning. A column an old schema
// lacks reads as empty. Several endpoints are the members of a clustered NB;
// the leader is read.
func ReadTopology(ctx context.Context, endpoints []string, hosts []*topo.Host, opts ...ovsdbmodel.Option) (*topo.Topology, error) {
	source := "NB " + strings.Join(endpoints, ",")
	want := describedColumns()
	db, err := ovsdbmodel.Connect(ctx, endpoints, "OVN_Northbound", want, opts...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	defer db.Close()
	tables := map[string]map[string]nbRow{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if tables[name], err = readTable(ctx, db, name); err != nil {
			return nil, fmt.Errorf("read %s: %w", source, err)
		}
	}
	return topo.New(source, nbSwitches(tables), nbRouters(tables), hosts), nil
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

func nbSwitches(tables map[string]map[string]nbRow) []*topo.Switch {
	var out []*topo.Switch
	for _, ls := range tables[tableSwitch.Name] {
		oc := ls.strMap("other_config")
		s := &topo.Switch{Name: ls.str("name"), Subnet: oc["subnet"], IPv6Prefix: oc["ipv6_prefix"]}
		for _, uuid := range ls.strs("ports") {
			lsp, ok := tables[tableSwitchPort.Name][uuid]
			if !ok {
				continue
			}
			opts := lsp.strMap("options")
			s.Ports = append(s.Ports, &topo.SwitchPort{
				Name: lsp.str("name"), Type: lsp.str("type"), Addresses: lsp.strs("addresses"),
				DynamicAddresses: lsp.str("dynamic_addresses"),
				RouterPort:       opts["router-port"], NetworkName: opts["network_name"],
			})
		}
		out = append(out, s)
	}
	return out
}

func nbRouters(tables map[string]map[string]nbRow) []*topo.Router {
	var out []*topo.Router
	for _, lr := range tables[tableRouter.Name] {
		r := &topo.Router{Name: lr.str("name")}
		if c := lr.strMap("options")["chassis"]; c != "" {
			r.Chassis = &topo.Chassis{Name: c}
		}
		for _, uuid := range lr.strs("ports") {
			if lrp, ok := tables[tableRouterPort.Name][uuid]; ok {
				r.Ports = append(r.Ports, nbRouterPort(tables, lrp))
			}
		}
		for _, uuid := range lr.strs("nat") {
			if n, ok := tables[tableNAT.Name][uuid]; ok {
				r.NAT = append(r.NAT, topo.NAT{Type: n.str("type"), ExternalIP: n.str("external_ip"), LogicalIP: n.str("logical_ip"),
					LogicalPort: n.str("logical_port"), ExternalMAC: n.str("external_mac")})
			}
		}
		for _, uuid := range lr.strs("static_routes") {
			if sr, ok := tables[tableStaticRoute.Name][uuid]; ok {
				r.Routes = append(r.Routes, topo.Route{Prefix: sr.str("ip_prefix"), Nexthop: sr.str("nexthop"), OutputPort: sr.str("output_port")})
			}
		}
		out = append(out, r)
	}
	return out
}

func nbRouterPort(tables map[string]map[string]nbRow, lrp nbRow) *topo.RouterPort {
	p := &topo.RouterPort{Name: lrp.str("name"), MAC: lrp.str("mac"), Networks: lrp.strs("networks"), Peer: lrp.str("peer")}
	for _, uuid := range lrp.strs("gateway_chassis") {
		if gc, ok := tables[tableGatewayChassis.Name][uuid]; ok {
			p.GatewayChassis = append(p.GatewayChassis, topo.GatewayChassis{Chassis: topo.Chassis{Name: gc.str("chassis_name")}, Priority: gc.int("priority")})
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
	return slices.Clone(ovsdbmodel.Strings(r[column]))
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
