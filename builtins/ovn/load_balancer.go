package ovn

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// The load balancer tables. A load balancer may be on several switches,
// routers and groups at once; its health checks are rows of their own that
// only it references. Load_Balancer names are not unique in the schema (the
// driver guards the insert); Load_Balancer_Group names are.
var (
	lbSwitches = &Ref{Table: "Logical_Switch", Column: "load_balancer", Field: "switches", Many: true}
	lbRouters  = &Ref{Table: "Logical_Router", Column: "load_balancer", Field: "routers", Many: true}
	lbGroups   = &Ref{Table: "Load_Balancer_Group", Column: "load_balancer", Field: "groups", Many: true}
	tableLB    = describe(&Table{Name: "Load_Balancer", Builtin: "load_balancer()", Key: []string{"name"},
		Columns: []string{"vips", "protocol", "selection_fields", "ip_port_mappings", "options", "external_ids"},
		In:      []*Ref{lbSwitches, lbRouters, lbGroups}})
	lbHealthChecks     = &Ref{Table: "Load_Balancer", Column: "health_check", Field: "load_balancer"}
	tableLBHealthCheck = describe(&Table{Name: "Load_Balancer_Health_Check", Builtin: "load_balancer(health_check=)", Key: []string{"vip"}, KeyConflicts: true,
		Columns: []string{"vip", "options", "external_ids"}, In: []*Ref{lbHealthChecks}})
	groupSwitches = &Ref{Table: "Logical_Switch", Column: "load_balancer_group", Field: "switches", Many: true}
	groupRouters  = &Ref{Table: "Logical_Router", Column: "load_balancer_group", Field: "routers", Many: true}
	tableLBGroup  = describe(&Table{Name: "Load_Balancer_Group", Builtin: "load_balancer_group()", Key: []string{"name"},
		In: []*Ref{groupSwitches, groupRouters}})
)

var _ = family(
	interp.Builtin{Domain: "ovn", Name: "load_balancer", Fn: loadBalancerBuiltin,
		Signature: "load_balancer(name, vips, protocol=, health_check=, ip_port_mappings=, selection_fields=, options=, switches=, routers=, external_ids=)",
		Doc: `Declares a Load_Balancer: ovn-nbctl lb-add NAME VIP BACKENDS [PROTOCOL] once per VIP, then
ls-lb-add for each of switches= and lr-lb-add for each of routers= (switches or routers, or their
names). vips= maps each "VIP[:PORT]" to its backends, a list of "IP[:PORT]" or one string "a,b";
an IPv6 address with a port is written "[fd00::1]:80"; ports are given on both sides or on neither,
and backends are of the VIP's family. Values are written as lb-add writes them. protocol= is tcp
(the default, which lb-add writes too), udp or sctp, and needs a VIP with a port. health_check= maps
a VIP with a port to the options of its Load_Balancer_Health_Check row (interval, timeout,
success_count, failure_count), which ovn-nbctl makes with create Load_Balancer_Health_Check and
add Load_Balancer NAME health_check; ip_port_mappings= maps a backend IP to "PORT:SOURCE_IP", the
declared switch port through which ovn-controller probes it and the probes' source address.
selection_fields= (eth_src, eth_dst, ip_src, ip_dst, tp_src, tp_dst) makes OVS hash those fields to
pick a backend. options= takes reject, event, skip_snat, add_route, hairpin_snat_ip,
neighbor_responder, affinity_timeout and ct_flush. Returns a load balancer with attributes name,
vips, protocol and options, which load_balancer_group(lbs=) takes.`},
	interp.Builtin{Domain: "ovn", Name: "load_balancer_group", Fn: loadBalancerGroupBuiltin,
		Signature: "load_balancer_group(name, lbs=, switches=, routers=)",
		Doc: `Declares a Load_Balancer_Group holding the load balancers lbs= (declared before, in the same
step), and attaches it to switches= and routers= (their load_balancer_group column): ovn-nbctl
--id=@g create Load_Balancer_Group name=NAME load_balancer=... -- add Logical_Switch SW
load_balancer_group @g (ovn-nbctl 23.03 has no lb-group commands). Load_Balancer_Group rows have no
external_ids: ovnrun records that it made the group in NB_Global external_ids. Returns a group with
attributes name and lbs.`},
)

// lbState is what the load balancer family remembers during an
// evaluation: the load balancers declared so far, by name.
type lbState struct{ lbs map[string]*LoadBalancer }

func lbStateOf(c *interp.Call) *lbState {
	return c.Ev.Domain("ovn/load_balancer", func() any {
		return &lbState{lbs: map[string]*LoadBalancer{}}
	}).(*lbState)
}

// lbOptions are the Load_Balancer options ovn-northd reads, and whether
// each is a boolean. template and address-family are left out: ovnrun
// does not parse template VIPs.
var lbOptions = map[string]bool{"reject": true, "event": true, "skip_snat": true, "add_route": true,
	"ct_flush": true, "hairpin_snat_ip": false, "neighbor_responder": false, "affinity_timeout": false}

var lbSelectionFields = map[string]bool{"eth_src": true, "eth_dst": true, "ip_src": true, "ip_dst": true, "tp_src": true, "tp_dst": true}

// load_balancer(name, vips, protocol=, health_check=, ip_port_mappings=, selection_fields=,
// options=, switches=, routers=, external_ids=)
func loadBalancerBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name                          interp.Name
		vips                          lbVIPs
		protocol                      string
		checks                        lbHealthCheckArg
		mappings, options, externalID interp.StringMap
		fields, switches, routers     starlark.Value
	)
	if err := c.Unpack(2, "name", &name, "vips", &vips, "protocol?", &protocol, "health_check?", &checks,
		"ip_port_mappings?", &mappings, "selection_fields?", &fields, "options?", &options,
		"switches?", &switches, "routers?", &routers, "external_ids?", &externalID); err != nil {
		return nil, err
	}
	if len(vips.vips) == 0 {
		return nil, c.Errorf("vips: want at least one VIP (ovn-nbctl lb-add needs one)")
	}
	switch {
	case protocol == "":
		protocol = "tcp" // what lb-add writes, with or without ports
	case protocol != "tcp" && protocol != "udp" && protocol != "sctp":
		return nil, c.Errorf("protocol %q: want tcp, udp or sctp", protocol)
	case len(vips.ported) == 0:
		return nil, c.Errorf("protocol=%s applies to VIPs with a port, and no VIP has one (ovn-nbctl lb-add refuses it too)", protocol)
	}
	if err := checkLBOptions(options); err != nil {
		return nil, c.Errorf("options: %v", err)
	}
	var sel interp.StringList
	if fields != nil {
		if err := sel.Unpack(fields); err != nil {
			return nil, c.Errorf("selection_fields: %v", err)
		}
		for _, f := range sel {
			if !lbSelectionFields[f] {
				return nil, c.Errorf("selection_fields: unknown field %q; known: %s", f, strings.Join(sortedKeys(lbSelectionFields), ", "))
			}
		}
	}
	ipPorts := map[string]string{}
	var probePorts []string
	for _, k := range mappings.Keys() {
		key, port, err := checkIPPortMapping(k, mappings[k])
		if err != nil {
			return nil, c.Errorf("ip_port_mappings: %v", err)
		}
		if !vips.hasBackend(strings.Trim(key, "[]")) {
			return nil, c.Errorf("ip_port_mappings: %s is not a backend of any VIP", k)
		}
		if _, dup := ipPorts[key]; dup {
			return nil, c.Errorf("ip_port_mappings: backend %s is given twice", key)
		}
		ipPorts[key] = mappings[k]
		probePorts = append(probePorts, port)
	}
	// The ports may be declared after the load balancer.
	c.AtEnd(func() error {
		for _, p := range probePorts {
			if _, ok := c.Ev.Port(p); !ok {
				return fmt.Errorf("ip_port_mappings: no logical switch port %q is declared", p)
			}
		}
		return nil
	})
	a := newRow(tableLB, string(name), map[string]any{"vips": vips.vips, "protocol": protocol,
		"selection_fields": []string(sel), "ip_port_mappings": ipPorts, "options": options, "external_ids": externalID})
	if err := linkAll(c, a, lbSwitches, "switches", switches, switchRows(c, "switches")); err != nil {
		return nil, err
	}
	if err := linkAll(c, a, lbRouters, "routers", routers, routerRows(c, "routers")); err != nil {
		return nil, err
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	for _, vip := range slices.Sorted(maps.Keys(checks)) {
		if err := addHealthCheck(c, a, vips, protocol, vip, checks[vip]); err != nil {
			return nil, err
		}
	}
	lb := &LoadBalancer{handle: handle{"load_balancer", string(name)}, a: a}
	lbStateOf(c).lbs[string(name)] = lb
	return lb, nil
}

// addHealthCheck declares the Load_Balancer_Health_Check row of vip on lb.
// ovn-northd finds it by the VIP as the vips column spells it, and probes
// the backends' port: the VIP must have one.
func addHealthCheck(c *interp.Call, lb *Row, vips lbVIPs, protocol, vip string, opts map[string]string) error {
	if _, ok := vips.vips[vip]; !ok {
		return c.Errorf("health_check: %s is not a VIP of the load balancer", vip)
	}
	if !slices.Contains(vips.ported, vip) {
		return c.Errorf("health_check: VIP %s has no port: health checks probe the backends' port", vip)
	}
	if protocol == "sctp" {
		return c.Errorf("health_check: ovn-northd makes no health checks for sctp load balancers")
	}
	hc := newRow(tableLBHealthCheck, lb.M.Name+"/"+vip, map[string]any{"vip": vip, "options": opts}, lb.M.ID)
	hc.link(lbHealthChecks, lb.M.Name)
	return c.Add(hc)
}

func checkLBOptions(options interp.StringMap) error {
	for _, k := range options.Keys() {
		v := options[k]
		isBool, ok := lbOptions[k]
		switch {
		case !ok:
			return fmt.Errorf("unknown load balancer option %q; known: %s", k, strings.Join(sortedKeys(lbOptions), ", "))
		case isBool && v != "true" && v != "false":
			return fmt.Errorf("%s=%q: want true or false", k, v)
		case k == "neighbor_responder" && v != "all" && v != "reachable" && v != "none":
			return fmt.Errorf("%s=%q: want all, reachable or none", k, v)
		case k == "affinity_timeout":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("%s=%q: want 1 to 65535 seconds", k, v)
			}
		case k == "hairpin_snat_ip":
			if err := checkHairpinSNATIP(v); err != nil {
				return fmt.Errorf("%s=%q: %v", k, v, err)
			}
		}
	}
	if options["reject"] == "true" && options["event"] == "true" {
		return fmt.Errorf("reject and event exclude each other (ovn-nbctl lb-add --reject --event refuses it)")
	}
	return nil
}

// checkHairpinSNATIP validates "IPv4", "IPv6" or "IPv4 IPv6".
func checkHairpinSNATIP(v string) error {
	seen := map[bool]bool{}
	f := strings.Fields(v)
	if len(f) == 0 || len(f) > 2 {
		return fmt.Errorf("want one IPv4 and/or one IPv6 address")
	}
	for _, s := range f {
		ip, err := interp.ParseIP(s)
		if err != nil {
			return err
		}
		if seen[ip.Is4()] {
			return fmt.Errorf("want at most one address of each family")
		}
		seen[ip.Is4()] = true
	}
	return nil
}

// items returns the values of a list argument: a list or tuple, or a
// single value as a list of one.
func items(v starlark.Value) []starlark.Value {
	if v == nil || v == starlark.None {
		return nil
	}
	l, ok := v.(starlark.Indexable)
	if _, isString := v.(starlark.String); isString || !ok {
		return []starlark.Value{v}
	}
	out := make([]starlark.Value, l.Len())
	for i := range out {
		out[i] = l.Index(i)
	}
	return out
}

// linkAll links a, through ref, to each row of the list v (handles or
// names), which resolve turns into the row's action.
func linkAll(c *interp.Call, a *Row, ref *Ref, param string, v starlark.Value, resolve func(starlark.Value) (*Row, error)) error {
	for _, x := range items(v) {
		p, err := resolve(x)
		if err != nil {
			return err
		}
		if slices.Contains(a.Links, Link{ref, p.M.Name}) {
			return c.Errorf("%s: %s is given twice", param, p.M.Name)
		}
		a.link(ref, p.M.Name)
		a.M.DependsOn = append(a.M.DependsOn, p.M.ID)
	}
	return nil
}

// switchRows and routerRows resolve a switch or router argument to its row.
func switchRows(c *interp.Call, param string) func(starlark.Value) (*Row, error) {
	return func(v starlark.Value) (*Row, error) {
		s, err := stateOf(c).switchRef(c, param, v)
		if err != nil {
			return nil, err
		}
		return s.a, nil
	}
}

func routerRows(c *interp.Call, param string) func(starlark.Value) (*Row, error) {
	return func(v starlark.Value) (*Row, error) {
		r, err := stateOf(c).routerRef(c, param, v)
		if err != nil {
			return nil, err
		}
		return r.a, nil
	}
}

// load_balancer_group(name, lbs=, switches=, routers=)
func loadBalancerGroupBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name                    interp.Name
		lbsv, switches, routers starlark.Value
	)
	if err := c.Unpack(1, "name", &name, "lbs?", &lbsv, "switches?", &switches, "routers?", &routers); err != nil {
		return nil, err
	}
	g := newRow(tableLBGroup, string(name), nil)
	if err := linkAll(c, g, groupSwitches, "switches", switches, switchRows(c, "switches")); err != nil {
		return nil, err
	}
	if err := linkAll(c, g, groupRouters, "routers", routers, routerRows(c, "routers")); err != nil {
		return nil, err
	}
	var lbs []*LoadBalancer
	for _, v := range items(lbsv) {
		lb, err := ref(c, "lbs", "load balancer", v, lbStateOf(c).lbs)
		if err != nil {
			return nil, err
		}
		if slices.Contains(lbs, lb) {
			return nil, c.Errorf("lbs: %s is given twice", lb.name)
		}
		lbs = append(lbs, lb)
	}
	if err := c.Add(g); err != nil {
		return nil, err
	}
	// Each load balancer joins the group: the group's row references it.
	// The driver puts that reference in the group's insert when both are
	// in one step; a group of a later step would not exist yet when the
	// load balancer's step is applied.
	for _, lb := range lbs {
		if lb.a.M.Step != g.M.Step {
			return nil, c.Errorf("lbs: load balancer %s is declared in step %q and the group in step %q: declare them in the same step, so that the group exists when the load balancer joins it",
				lb.name, lb.a.M.Step, g.M.Step)
		}
		lb.a.link(lbGroups, string(name))
		lb.a.M.DependsOn = append(lb.a.M.DependsOn, g.M.ID)
	}
	return &LoadBalancerGroup{handle: handle{"load_balancer_group", string(name)}, a: g, lbs: lbs}, nil
}

// LoadBalancer is the handle of a load balancer.
type LoadBalancer struct {
	handle
	a *Row
}

func (l *LoadBalancer) AttrNames() []string {
	return []string{"id", "name", "options", "protocol", "vips"}
}

func (l *LoadBalancer) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(l.a.M.ID), nil
	case "name":
		return starlark.String(l.name), nil
	case "vips":
		return stringDict(l.a.strMap("vips")), nil
	case "protocol":
		return starlark.String(l.a.str("protocol")), nil
	case "options":
		return stringDict(l.a.strMap("options")), nil
	}
	return nil, nil
}

// LoadBalancerGroup is the handle of a load balancer group.
type LoadBalancerGroup struct {
	handle
	a   *Row
	lbs []*LoadBalancer
}

func (g *LoadBalancerGroup) AttrNames() []string { return []string{"id", "lbs", "name"} }

func (g *LoadBalancerGroup) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(g.a.M.ID), nil
	case "name":
		return starlark.String(g.name), nil
	case "lbs":
		l := make([]starlark.Value, len(g.lbs))
		for i, lb := range g.lbs {
			l[i] = lb
		}
		return starlark.NewList(l), nil
	}
	return nil, nil
}
