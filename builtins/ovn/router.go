package ovn

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// lr(name, chassis=, options=)
func lrBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name    interp.Name
		chassis starlark.Value
		options interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "chassis?", &chassis, "options?", &options); err != nil {
		return nil, err
	}
	a := &LogicalRouter{ActionMeta: meta(KindRouter, string(name)), Options: options}
	if chassis != nil {
		if _, dup := options["chassis"]; dup {
			return nil, c.Errorf(`options["chassis"] repeats chassis=; give it once`)
		}
		v, _, err := chassisValue(c, "chassis", chassis)
		if err != nil {
			return nil, err
		}
		a.ChassisOption = v
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	r := &Router{handle: handle{"logical_router", string(name)}, a: a}
	stateOf(c).routers[string(name)] = r
	return r, nil
}

// lrp(router, name, mac=, networks=, peer=, peer_port=, peer_addresses=)
func lrpBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, peer      starlark.Value
		name          interp.Name
		mac           interp.MAC
		networks      interp.StringList
		peerPort      interp.Name
		peerAddresses = "mac"
	)
	if err := c.Unpack(2, "router", &rv, "name", &name, "mac", &mac, "networks", &networks,
		"peer?", &peer, "peer_port?", &peerPort, "peer_addresses?", &peerAddresses); err != nil {
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
	if peerPort != "" && peer == nil {
		return nil, c.Errorf("peer_port= names the port on the peer switch; it needs peer=")
	}
	if peerAddresses != "mac" && peer == nil {
		return nil, c.Errorf("peer_addresses= sets the addresses of the port on the peer switch; it needs peer=")
	}
	if pos, taken := st.portNameTaken(string(name)); taken {
		return nil, c.Errorf("port %q is already declared at %s (switch and router ports share one namespace)", name, pos)
	}
	a := &LogicalRouterPort{ActionMeta: meta(KindRouterPort, string(name), r.a.M.ID),
		Router: r.name, MAC: mac, Networks: networks}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	rp := &RouterPort{handle: handle{"logical_router_port", string(name)}, a: a, router: r, addrs: addrs, peer: starlark.None}
	st.routerPorts[string(name)] = rp
	if peer != nil {
		p, err := peerSwitchPort(c, rp, peer, string(peerPort), peerAddresses)
		if err != nil {
			return nil, err
		}
		rp.peer = p
	}
	return rp, nil
}

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
	p := &LogicalSwitchPort{ActionMeta: meta(KindSwitchPort, name, sw.a.M.ID, rp.a.M.ID),
		Switch: sw.name, Type: "router", Addresses: []string{rp.a.MAC.String()},
		Options: map[string]string{"router-port": rp.name}}
	if addresses == "router" {
		p.Addresses = []string{"router"}
	}
	return addPort(c, sw, p, rp.a.MAC, ipsArg{})
}

// gateway_chassis(lrp, chassis, priority=)
func gatewayChassisBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		lrpv, chassis starlark.Value
		priority      int
	)
	if err := c.Unpack(2, "lrp", &lrpv, "chassis", &chassis, "priority?", &priority); err != nil {
		return nil, err
	}
	if priority < 0 || priority > 32767 {
		return nil, c.Errorf("priority %d: want 0 to 32767", priority)
	}
	rp, err := stateOf(c).routerPortRef(c, "lrp", lrpv)
	if err != nil {
		return nil, err
	}
	v, label, err := chassisValue(c, "chassis", chassis)
	if err != nil {
		return nil, err
	}
	// ovn-nbctl names the row "<port>-<chassis>"; so do we, so that rows made
	// either way look alike.
	a := &GatewayChassis{ActionMeta: meta(KindGatewayChassis, rp.name+"-"+label, rp.a.M.ID),
		RouterPort: rp.name, ChassisName: v, Priority: priority}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

var natTypes = map[string]bool{"snat": true, "dnat": true, "dnat_and_snat": true}

// nat(router, type=, external_ip=, logical_ip=, logical_port=, external_mac=)
func natBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, logicalPort starlark.Value
		typ             string
		externalIP      interp.IP
		logicalIP       string
		externalMAC     interp.MAC
	)
	if err := c.Unpack(1, "router", &rv, "type", &typ, "external_ip", &externalIP, "logical_ip", &logicalIP,
		"logical_port?", &logicalPort, "external_mac?", &externalMAC); err != nil {
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
	a := &NAT{ActionMeta: meta(KindNAT, fmt.Sprintf("%s/%s/%s/%s", r.name, typ, externalIP, logicalIP), r.a.M.ID),
		Router: r.name, Type: typ, ExternalIP: externalIP.String(), LogicalIP: logicalIP, ExternalMAC: externalMAC}
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
		a.LogicalPort = p.name
		a.M.DependsOn = append(a.M.DependsOn, p.a.M.ID)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
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

// route(router, prefix, nexthop, output_port=)
func routeBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv, outputPort starlark.Value
		prefix         interp.CIDR
		nexthop        interp.IP
	)
	if err := c.Unpack(3, "router", &rv, "prefix", &prefix, "nexthop", &nexthop, "output_port?", &outputPort); err != nil {
		return nil, err
	}
	st := stateOf(c)
	r, err := st.routerRef(c, "router", rv)
	if err != nil {
		return nil, err
	}
	if prefix.Is4() != nexthop.Is4() {
		return nil, c.Errorf("nexthop %s and prefix %s are of different families", nexthop, prefix)
	}
	a := &StaticRoute{ActionMeta: meta(KindStaticRoute, fmt.Sprintf("%s/%s/%s", r.name, prefix, nexthop), r.a.M.ID),
		Router: r.name, IPPrefix: prefix, Nexthop: nexthop}
	if outputPort != nil {
		rp, err := st.routerPortRef(c, "output_port", outputPort)
		if err != nil {
			return nil, err
		}
		if rp.router != r {
			return nil, c.Errorf("output_port %s belongs to router %s, not %s", rp.name, rp.router.name, r.name)
		}
		a.OutputPort = rp.name
		a.M.DependsOn = append(a.M.DependsOn, rp.a.M.ID)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
