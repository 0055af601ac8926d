package ovn

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
)

// The router tables. Ports, NAT rules and static routes are referenced by
// their router, gateway chassis by their router port.
var (
	tableRouter = describe(&Table{Name: "Logical_Router", Builtin: "lr()", Key: []string{"name"},
		Columns: []string{"options", "external_ids"}, Describe: describeRouter})
	routerPorts     = &Ref{Table: "Logical_Router", Column: "ports", Field: "router"}
	tableRouterPort = describe(&Table{Name: "Logical_Router_Port", Builtin: "lrp()", Key: []string{"name"},
		Columns: []string{"mac", "networks", "peer", "ha_chassis_group", "options", "ipv6_ra_configs", "external_ids"},
		In:      []*Ref{routerPorts}, Describe: describeRouterPort})
	portGatewayChassis  = &Ref{Table: "Logical_Router_Port", Column: "gateway_chassis", Field: "router_port"}
	tableGatewayChassis = describe(&Table{Name: "Gateway_Chassis", Builtin: "gateway_chassis()", Key: []string{"name"},
		Columns: []string{"chassis_name", "priority", "options", "external_ids"},
		In:      []*Ref{portGatewayChassis}, Describe: describeGatewayChassis})
	routerNAT = &Ref{Table: "Logical_Router", Column: "nat", Field: "router"}
	tableNAT  = describe(&Table{Name: "NAT", Builtin: "nat()", Key: []string{"type", "external_ip", "logical_ip"}, KeyConflicts: true,
		Columns: []string{"type", "external_ip", "logical_ip", "logical_port", "external_mac", "gateway_port",
			"options", "external_ids"},
		In: []*Ref{routerNAT}, Describe: describeNAT})
	routerRoutes     = &Ref{Table: "Logical_Router", Column: "static_routes", Field: "router"}
	tableStaticRoute = describe(&Table{Name: "Logical_Router_Static_Route", Builtin: "route()",
		Key: []string{"ip_prefix", "nexthop", "route_table", "policy"}, KeyConflicts: true,
		Columns: []string{"ip_prefix", "nexthop", "output_port", "bfd", "policy", "route_table", "options", "external_ids"},
		In:      []*Ref{routerRoutes}, Describe: describeStaticRoute})
)

func describeRouter(a *Row, b *topo.Builder) {
	r := b.Router(a.M.Name)
	if v := a.future("options", "chassis"); v != nil {
		c := topo.ChassisOf(v)
		r.Chassis = &c
	}
}

func describeRouterPort(a *Row, b *topo.Builder) {
	b.AddRouterPort(a.parent(routerPorts), &topo.RouterPort{Name: a.M.Name, MAC: a.str("mac"), Networks: slices.Clone(a.strs("networks")), Peer: a.str("peer")})
}

func describeGatewayChassis(a *Row, b *topo.Builder) {
	b.AddGatewayChassis(a.parent(portGatewayChassis), topo.GatewayChassis{Chassis: topo.ChassisOf(a.future("chassis_name", "")), Priority: a.int("priority")})
}

func describeNAT(a *Row, b *topo.Builder) {
	r := b.Router(a.parent(routerNAT))
	r.NAT = append(r.NAT, topo.NAT{Type: a.str("type"), ExternalIP: a.str("external_ip"), LogicalIP: a.str("logical_ip"),
		LogicalPort: a.str("logical_port"), ExternalMAC: a.str("external_mac")})
}

func describeStaticRoute(a *Row, b *topo.Builder) {
	r := b.Router(a.parent(routerRoutes))
	r.Routes = append(r.Routes, topo.Route{Prefix: a.str("ip_prefix"), Nexthop: a.str("nexthop"), OutputPort: a.str("output_port")})
}

// lr(name, chassis=, options=, external_ids=)
func lrBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name                 interp.Name
		chassis              starlark.Value
		options, externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "chassis?", &chassis, "options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	a := newRow(tableRouter, string(name), map[string]any{"options": options, "external_ids": externalIDs})
	if chassis != nil {
		if _, dup := options["chassis"]; dup {
			return nil, c.Errorf(`options["chassis"] repeats chassis=; give it once`)
		}
		v, _, err := chassisValue(c, "chassis", chassis)
		if err != nil {
			return nil, err
		}
		opts := map[string]any{"chassis": v}
		for k, x := range options {
			opts[k] = x
		}
		a.Cols["options"] = canon(opts)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	r := &Router{handle: handle{"logical_router", string(name)}, a: a}
	stateOf(c).routers[string(name)] = r
	return r, nil
}

// lrp(router, name, mac=, networks=, peer=, peer_port=, peer_addresses=, options=,
// ipv6_ra_configs=, gateway_mtu=, ha_chassis_group=, external_ids=)
func lrpBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, peer, haGroup               starlark.Value
		name                            interp.Name
		mac                             interp.MAC
		networks                        interp.StringList
		peerPort                        interp.Name
		peerAddresses                   = "mac"
		options, raConfigs, externalIDs interp.StringMap
		gatewayMTU                      int
	)
	if err := c.Unpack(2, "router", &rv, "name", &name, "mac", &mac, "networks", &networks,
		"peer?", &peer, "peer_port?", &peerPort, "peer_addresses?", &peerAddresses,
		"options?", &options, "ipv6_ra_configs?", &raConfigs, "gateway_mtu?", &gatewayMTU,
		"ha_chassis_group?", &haGroup, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if peerAddresses != "mac" && peerAddresses != "router" {
		return nil, c.Errorf("peer_addresses %q: want mac or router", peerAddresses)
	}
	st := stateOf(c)
	r, err := st.routerRef(c, "router", rv)
	if err != nil {
		return nil, err
	}
	if len(networks) == 0 {
		return nil, c.Errorf("networks: want at least one address/length, such as 172.16.1.254/24")
	}
	addrs := make([]interp.IfAddr, len(networks))
	for i, n := range networks {
		if addrs[i], err = interp.ParseIfAddr(n); err != nil {
			return nil, c.Errorf("networks: %v", err)
		}
	}
	// peer= is a switch (the switch-side port is declared too) or another
	// router port (a router-to-router link: each port names the other).
	var peerLRP *RouterPort
	if peer != nil {
		if lrp, ok := peer.(*RouterPort); ok {
			peerLRP = lrp
		} else if s, ok := starlark.AsString(peer); ok && st.routerPorts[s] != nil && st.switches[s] == nil {
			peerLRP = st.routerPorts[s]
		}
	}
	if peerPort != "" && (peer == nil || peerLRP != nil) {
		return nil, c.Errorf("peer_port= names the port on the peer switch; it needs peer= to be a switch")
	}
	if peerAddresses != "mac" && (peer == nil || peerLRP != nil) {
		return nil, c.Errorf("peer_addresses= sets the addresses of the port on the peer switch; it needs peer= to be a switch")
	}
	if gatewayMTU < 0 || gatewayMTU > 65535 {
		return nil, c.Errorf("gateway_mtu %d: want 68 to 65535", gatewayMTU)
	}
	if gatewayMTU > 0 {
		if _, dup := options["gateway_mtu"]; dup {
			return nil, c.Errorf(`options["gateway_mtu"] repeats gateway_mtu=; give it once`)
		}
		if gatewayMTU < 68 {
			return nil, c.Errorf("gateway_mtu %d: want 68 to 65535", gatewayMTU)
		}
		options = maps.Clone(options)
		if options == nil {
			options = interp.StringMap{}
		}
		options["gateway_mtu"] = fmt.Sprint(gatewayMTU)
	}
	for k := range raConfigs {
		if !raConfigKeys[k] {
			return nil, c.Errorf("ipv6_ra_configs: unknown key %q; known: %s", k, strings.Join(sortedKeys(raConfigKeys), ", "))
		}
	}
	if pos, taken := st.portNameTaken(string(name)); taken {
		return nil, c.Errorf("port %q is already declared at %s (switch and router ports share one namespace)", name, pos)
	}
	if err := checkRouterNetworks(c, st, r, string(name), addrs); err != nil {
		return nil, err
	}
	a := newRow(tableRouterPort, string(name), map[string]any{"mac": mac, "networks": []string(networks),
		"options": options, "ipv6_ra_configs": raConfigs, "external_ids": externalIDs}, r.a.M.ID)
	a.link(routerPorts, r.name)
	if haGroup != nil {
		if err := setHAChassisGroup(c, a, haGroup); err != nil {
			return nil, err
		}
		refuseGatewayChassis(c, string(name))
	}
	if peerLRP != nil {
		if peerLRP.router == r {
			return nil, c.Errorf("peer: %s is a port of the same router %s", peerLRP.name, r.name)
		}
		if other := peerLRP.a.str("peer"); other != "" && other != string(name) {
			return nil, c.Errorf("peer: %s is already the peer of %s", peerLRP.name, other)
		}
		// Both ends name each other, as ovn-nbctl lrp-add ... peer= does on
		// each side; the other end was declared first and learns its peer now.
		a.Cols["peer"] = peerLRP.name
		peerLRP.a.Cols["peer"] = string(name)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	rp := &RouterPort{handle: handle{"logical_router_port", string(name)}, a: a, router: r, addrs: addrs, peer: starlark.None}
	st.routerPorts[string(name)] = rp
	switch {
	case peerLRP != nil:
		rp.peer = peerLRP
		peerLRP.peer = rp
	case peer != nil:
		p, err := peerSwitchPort(c, rp, peer, string(peerPort), peerAddresses)
		if err != nil {
			return nil, err
		}
		rp.peer = p
	}
	return rp, nil
}

// raConfigKeys are the keys of Logical_Router_Port ipv6_ra_configs that
// ovn-northd reads (ovn-nb(5)).
var raConfigKeys = map[string]bool{"address_mode": true, "router_preference": true, "route_info": true,
	"mtu": true, "send_periodic": true, "max_interval": true, "min_interval": true, "dnssl": true, "rdnss": true}

// peerSwitchPort declares the router-type port on switch peer that connects
// it to rp, as the seed does by hand with lsp-add, lsp-set-type router,
// lsp-set-addresses MAC and lsp-set-options router-port=. With addresses
// "router" ovn-northd takes the addresses from rp, adding the external MACs
// of its router's distributed NAT rules: the switch then forwards frames
// for a floating IP's MAC to the router on the chassis of the VM behind it.
func peerSwitchPort(c *interp.Call, rp *RouterPort, peer starlark.Value, name, addresses string) (*Port, error) {
	sw, err := stateOf(c).switchRef(c, "peer", peer)
	if err != nil {
		return nil, err
	}
	for _, a := range rp.addrs {
		if a.Prefix.Addr().Is4() && sw.subnet.IsSet() && !sw.subnet.Prefix.Contains(a.Prefix.Addr()) {
			return nil, c.Errorf("peer: router port address %s is outside subnet %s of switch %s", a, sw.subnet, sw.name)
		}
	}
	if name == "" {
		name = sw.name + "-" + rp.router.name
	}
	mac, _ := interp.ParseMAC(rp.a.str("mac"))
	addrs := []string{mac.String()}
	if addresses == "router" {
		addrs = []string{"router"}
	}
	p := newRow(tableSwitchPort, name, map[string]any{"type": "router", "addresses": addrs,
		"options": map[string]string{"router-port": rp.name}}, sw.a.M.ID, rp.a.M.ID)
	p.link(switchPorts, sw.name)
	return addPort(c, sw, p, mac, ipsArg{})
}

// gateway_chassis(lrp, chassis, priority=)
func gatewayChassisBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		lrpv, chassis        starlark.Value
		priority             int
		options, externalIDs interp.StringMap
	)
	if err := c.Unpack(2, "lrp", &lrpv, "chassis", &chassis, "priority?", &priority,
		"options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if priority < 0 || priority > 32767 {
		return nil, c.Errorf("priority %d: want 0 to 32767", priority)
	}
	rp, err := stateOf(c).routerPortRef(c, "lrp", lrpv)
	if err != nil {
		return nil, err
	}
	if name, ok := chassis.(starlark.String); ok && len(c.Args) >= 2 && c.Ev.Plan().Hosts[string(name)] == nil {
		return nil, c.Errorf(`chassis %q is no declared host; to name a chassis that is not a host of this runbook, write chassis=%q`, string(name), string(name))
	}
	v, label, err := chassisValue(c, "chassis", chassis)
	if err != nil {
		return nil, err
	}
	stateOf(c).gatewayPorts[rp.name] = true
	// ovn-nbctl names the row "<port>-<chassis>"; so do we, so that rows made
	// either way look alike.
	a := newRow(tableGatewayChassis, rp.name+"-"+label, map[string]any{"chassis_name": v, "priority": priority,
		"options": options, "external_ids": externalIDs}, rp.a.M.ID)
	a.link(portGatewayChassis, rp.name)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

var natTypes = map[string]bool{"snat": true, "dnat": true, "dnat_and_snat": true}

// nat(router, type=, external_ip=, logical_ip=, logical_port=, external_mac=, gateway_port=,
// options=, external_ids=)
func natBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, logicalPort, gatewayPort starlark.Value
		typ                          string
		externalIP                   interp.IP
		logicalIP                    string
		externalMAC                  interp.MAC
		options, externalIDs         interp.StringMap
	)
	if err := c.Unpack(1, "router", &rv, "type", &typ, "external_ip", &externalIP, "logical_ip", &logicalIP,
		"logical_port?", &logicalPort, "external_mac?", &externalMAC, "gateway_port?", &gatewayPort,
		"options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if !natTypes[typ] {
		return nil, c.Errorf("type %q: want snat, dnat or dnat_and_snat", typ)
	}
	st := stateOf(c)
	r, err := st.routerRef(c, "router", rv)
	if err != nil {
		return nil, err
	}
	if err := checkLogicalIP(typ, logicalIP, externalIP); err != nil {
		return nil, c.Errorf("logical_ip: %v", err)
	}
	for k, v := range options {
		if err := checkNATOption(k, v); err != nil {
			return nil, c.Errorf("options: %v", err)
		}
	}
	// ovn-nbctl lr-nat-add writes options:stateless always; so do we, so
	// that rows made either way are the same.
	if _, set := options["stateless"]; !set {
		options = maps.Clone(options)
		if options == nil {
			options = interp.StringMap{}
		}
		options["stateless"] = "false"
	}
	a := newRow(tableNAT, fmt.Sprintf("%s/%s/%s/%s", r.name, typ, externalIP, logicalIP),
		map[string]any{"type": typ, "external_ip": externalIP.String(), "logical_ip": logicalIP,
			"external_mac": externalMAC, "options": options, "external_ids": externalIDs}, r.a.M.ID)
	a.link(routerNAT, r.name)
	requireGateway(c, st, r)
	if (logicalPort != nil) != externalMAC.IsSet() {
		return nil, c.Errorf("logical_port= and external_mac= go together: distributed NAT needs both")
	}
	if logicalPort != nil {
		if typ != "dnat_and_snat" {
			return nil, c.Errorf("logical_port= and external_mac= apply to dnat_and_snat only")
		}
		p, err := st.portRef(c, "logical_port", logicalPort)
		if err != nil {
			return nil, err
		}
		a.Cols["logical_port"] = p.name
		a.M.DependsOn = append(a.M.DependsOn, p.a.M.ID)
	}
	if gatewayPort != nil {
		gp, err := st.routerPortRef(c, "gateway_port", gatewayPort)
		if err != nil {
			return nil, err
		}
		if gp.router != r {
			return nil, c.Errorf("gateway_port %s belongs to router %s, not %s", gp.name, gp.router.name, r.name)
		}
		a.Cols["gateway_port"] = rowRef{gp.a.M.ID}
		a.M.DependsOn = append(a.M.DependsOn, gp.a.M.ID)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// natOptions are the NAT options ovn-northd reads, and whether each is a
// boolean.
var natOptions = map[string]bool{"stateless": true, "add_route": true, "distributed": true}

func checkNATOption(k, v string) error {
	isBool, ok := natOptions[k]
	if !ok {
		return fmt.Errorf("unknown NAT option %q; known: %s", k, strings.Join(sortedKeys(natOptions), ", "))
	}
	if isBool && v != "true" && v != "false" {
		return fmt.Errorf("%s=%q: want true or false", k, v)
	}
	return nil
}

// checkLogicalIP validates logical_ip: an address, or for snat a network.
func checkLogicalIP(typ, s string, external interp.IP) error {
	if ip, err := interp.ParseIP(s); err == nil {
		if ip.Is4() != external.Is4() {
			return fmt.Errorf("%s and external_ip %s are of different families", ip, external)
		}
		return nil
	}
	if typ != "snat" {
		return fmt.Errorf("invalid IP address %q", s)
	}
	cidr, err := interp.ParseCIDR(s)
	if err != nil {
		return err
	}
	if cidr.Is4() != external.Is4() {
		return fmt.Errorf("%s and external_ip %s are of different families", cidr, external)
	}
	return nil
}

// route(router, prefix, nexthop, output_port=, bfd=, ecmp=, policy=, route_table=, options=, external_ids=)
func routeBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, outputPort, bfd  starlark.Value
		prefix               interp.CIDR
		nexthop              string
		policy, routeTable   string
		options, externalIDs interp.StringMap
		ecmp                 bool
	)
	if err := c.Unpack(3, "router", &rv, "prefix", &prefix, "nexthop", &nexthop, "output_port?", &outputPort, "bfd?", &bfd,
		"ecmp?", &ecmp, "policy?", &policy, "route_table?", &routeTable, "options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	st := stateOf(c)
	r, err := st.routerRef(c, "router", rv)
	if err != nil {
		return nil, err
	}
	// nexthop is an address of the prefix's family, or "discard" (ovn-nbctl
	// lr-route-add ... discard): drop what matches.
	if nexthop != "discard" {
		ip, err := interp.ParseIP(nexthop)
		if err != nil {
			return nil, c.Errorf(`nexthop: %v (want an address or "discard")`, err)
		}
		if prefix.Is4() != ip.Is4() {
			return nil, c.Errorf("nexthop %s and prefix %s are of different families", ip, prefix)
		}
		nexthop = ip.String()
	}
	if policy != "" && policy != "dst-ip" && policy != "src-ip" {
		return nil, c.Errorf("policy %q: want dst-ip or src-ip", policy)
	}
	for k, v := range options {
		if err := checkRouteOption(k, v); err != nil {
			return nil, c.Errorf("options: %v", err)
		}
	}
	name := fmt.Sprintf("%s/%s/%s", r.name, prefix, nexthop)
	if policy == "src-ip" {
		name += "/src-ip"
	}
	if routeTable != "" {
		name = routeTable + ":" + name
	}
	a := newRow(tableStaticRoute, name, map[string]any{"ip_prefix": prefix, "nexthop": nexthop,
		"policy": policy, "route_table": routeTable, "options": options, "external_ids": externalIDs}, r.a.M.ID)
	a.link(routerRoutes, r.name)
	var out *RouterPort
	if outputPort != nil {
		if out, err = st.routerPortRef(c, "output_port", outputPort); err != nil {
			return nil, err
		}
		if out.router != r {
			return nil, c.Errorf("output_port %s belongs to router %s, not %s", out.name, out.router.name, r.name)
		}
		a.Cols["output_port"] = out.name
		a.M.DependsOn = append(a.M.DependsOn, out.a.M.ID)
	}
	if err := routeBFD(c, r, a, out, nexthop, bfd); err != nil {
		return nil, err
	}
	// A second route to the same prefix makes the router balance over both
	// (ECMP); as ovn-nbctl lr-route-add, ovnrun wants that said (ecmp=True),
	// so that a repeated route by mistake is an error.
	dest := strings.Join([]string{r.name, routeTable, policy, prefix.String()}, "\x00")
	if first, ok := st.routes[dest]; ok && !ecmp {
		return nil, c.Errorf("a route to %s on router %s is already declared at %s; pass ecmp=True for equal-cost routes (ovn-nbctl lr-route-add --ecmp)", prefix, r.name, first.M.Pos())
	}
	if _, ok := st.routes[dest]; !ok {
		st.routes[dest] = a
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// routeOptions are the Logical_Router_Static_Route options ovn-northd
// reads; ecmp_symmetric_reply is a boolean, origin and bfd are set by
// other tools.
func checkRouteOption(k, v string) error {
	switch k {
	case "ecmp_symmetric_reply":
		if v != "true" && v != "false" {
			return fmt.Errorf("%s=%q: want true or false", k, v)
		}
		return nil
	case "origin":
		return nil
	}
	return fmt.Errorf("unknown static route option %q; known: ecmp_symmetric_reply, origin", k)
}
