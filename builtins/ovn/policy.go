package ovn

import (
	"fmt"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Router policies are referenced by their router. ovn-nbctl lr-policy-add
// refuses a second policy with the same priority and match on a router;
// that pair is the key.
var (
	routerPolicies    = &Ref{Table: "Logical_Router", Column: "policies", Field: "router"}
	tableRouterPolicy = describe(&Table{Name: "Logical_Router_Policy", Builtin: "router_policy()", Key: []string{"priority", "match"}, KeyConflicts: true,
		Columns: []string{"priority", "match", "action", "nexthops", "options", "external_ids"},
		In:      []*Ref{routerPolicies}})
)

var _ = family(interp.Builtin{Domain: "ovn", Name: "router_policy",
	Signature: "router_policy(router, priority, match, action, nexthops=, options=, external_ids=)", Fn: routerPolicyBuiltin,
	Doc: `Declares a Logical_Router_Policy on router (a router or its name): packets that match (an OVN
match expression, checked at evaluation) are allowed, dropped or rerouted by the highest-priority
matching policy (priority 0-32767), as ovn-nbctl lr-policy-add ROUTER PRIORITY MATCH ACTION
[NEXTHOPS] [KEY=VALUE...]. action= is allow, drop or reroute; reroute needs nexthops= (one or more
addresses of one family; several are ECMP next hops), which the others refuse. options= takes
pkt_mark (0-4294967295), the mark a matching packet gets. A router has one policy per priority and
match, as ovn-nbctl enforces.`})

var policyActions = map[string]bool{"allow": true, "drop": true, "reroute": true}

// router_policy(router, priority, match, action, nexthops=, options=, external_ids=)
func routerPolicyBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		rv                   starlark.Value
		priority             int
		match, action        string
		nexthops             interp.StringList
		options, externalIDs interp.StringMap
	)
	if err := c.Unpack(4, "router", &rv, "priority", &priority, "match", &match, "action", &action,
		"nexthops?", &nexthops, "options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	r, err := stateOf(c).routerRef(c, "router", rv)
	if err != nil {
		return nil, err
	}
	if priority < 0 || priority > 32767 {
		return nil, c.Errorf("priority %d: want 0 to 32767", priority)
	}
	if !policyActions[action] {
		return nil, c.Errorf("action %q: want allow, drop or reroute", action)
	}
	if err := checkMatch(c, "match", match); err != nil {
		return nil, err
	}
	if err := checkNexthops(action, nexthops); err != nil {
		return nil, c.Errorf("nexthops: %v", err)
	}
	for k, v := range options {
		if k != "pkt_mark" {
			return nil, c.Errorf("options: unknown router policy option %q; known: pkt_mark", k)
		}
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return nil, c.Errorf("options: pkt_mark=%q: want an integer from 0 to 4294967295", v)
		}
	}
	a := newRow(tableRouterPolicy, fmt.Sprintf("%s/%d/%s", r.name, priority, match), map[string]any{
		"priority": priority, "match": match, "action": action, "nexthops": []string(nexthops),
		"options": options, "external_ids": externalIDs}, r.a.M.ID)
	a.link(routerPolicies, r.name)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// checkNexthops validates the nexthops of a policy: addresses of one family,
// each once, for reroute only.
func checkNexthops(action string, nexthops []string) error {
	if action != "reroute" {
		if len(nexthops) > 0 {
			return fmt.Errorf("only a reroute policy has next hops, not %s", action)
		}
		return nil
	}
	if len(nexthops) == 0 {
		return fmt.Errorf("a reroute policy needs at least one next hop")
	}
	seen := map[string]bool{}
	var first interp.IP
	for i, s := range nexthops {
		ip, err := interp.ParseIP(s)
		if err != nil {
			return err
		}
		if i == 0 {
			first = ip
		} else if ip.Is4() != first.Is4() {
			return fmt.Errorf("%s and %s are of different families", first, ip)
		}
		if seen[ip.Addr.String()] {
			return fmt.Errorf("%s is given twice", s)
		}
		seen[ip.Addr.String()] = true
	}
	return nil
}
