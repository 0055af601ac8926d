package ovn

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// ACLs belong to a switch or a port group, which reference them through
// their acls column. ovn-nbctl acl-add refuses a second ACL with the same
// direction, priority, match and (since 23.09) tier on one switch or port
// group: the natural key, within the parent. It also counts
// options:apply-after-lb, which the key cannot hold (a map key): ovnrun
// puts it in the action's name instead.
var (
	switchACLs    = &Ref{Table: "Logical_Switch", Column: "acls", Field: "switch"}
	portGroupACLs = &Ref{Table: "Port_Group", Column: "acls", Field: "port_group"}
	tableACL      = describe(&Table{Name: "ACL", Builtin: "acl()", Key: []string{"direction", "priority", "match", "tier"}, KeyConflicts: true,
		Columns: []string{"direction", "priority", "match", "action", "log", "name", "severity", "meter", "label",
			"tier", "options", "external_ids"},
		In: []*Ref{switchACLs, portGroupACLs}})
)

var _ = family(interp.Builtin{Domain: "ovn", Name: "acl",
	Signature: "acl(on, direction, priority, match, action, log=, name=, severity=, meter=, label=, tier=, options=, external_ids=)",
	Fn:        aclBuiltin,
	Doc: `Declares an ACL on a logical switch or a port group (on=, a handle or a name), like ovn-nbctl
[--type=switch|port-group] acl-add ON DIRECTION PRIORITY MATCH ACTION. direction is from-lport or
to-lport; priority 0 to 32767; match an OVN expression, parsed at evaluation: the port groups (@pg),
address sets ($as, $pg_ip4, $pg_ip6) and ports it names must be declared in the runbook. action is
allow, allow-related, allow-stateless, drop, reject or pass (pass: OVN 23.09 and later). log=True
logs matching packets; name= (at most 63 characters), severity= (alert, warning, notice, info,
debug) and meter= (the name of a Meter that rate-limits the log) imply it, as acl-add --log --name=
--severity= --meter= do, unless log=False is given too: a named ACL that does not log. label= (0 to
4294967295, allow and allow-related only) is acl-add --label; tier= (0 to 3, OVN 23.09 and later) is
acl-add --tier. options= takes apply-after-lb (from-lport only), log-related and persist-established
(true or false). As acl-add does, a second ACL with the same direction, priority, match and tier on
the same switch or port group is refused: an existing one made by another tool is a conflict (apply
refuses it without --adopt). The plan names the ACL ON/DIRECTION/PRIORITY/MATCH (@ON for a port
group; tierN/ and /after-lb when set). Returns None.`})

var aclActions = map[string]bool{"allow": true, "allow-related": true, "allow-stateless": true,
	"drop": true, "reject": true, "pass": true}

var aclSeverities = map[string]bool{"alert": true, "warning": true, "notice": true, "info": true, "debug": true}

// aclOptions are the ACL options ovn-northd reads, all booleans.
var aclOptions = map[string]bool{"apply-after-lb": true, "log-related": true, "persist-established": true}

// acl(on, direction, priority, match, action, log=, name=, severity=, meter=, label=, tier=, options=, external_ids=)
func aclBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		on                       starlark.Value
		direction, match, action string
		priority                 int
		log, label, tier         starlark.Value
		name, severity, meter    string
		options, externalIDs     interp.StringMap
	)
	if err := c.Unpack(5, "on", &on, "direction", &direction, "priority", &priority, "match", &match, "action", &action,
		"log?", &log, "name?", &name, "severity?", &severity, "meter?", &meter, "label?", &label, "tier?", &tier,
		"options?", &options, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	ref, parent, parentID, err := aclParent(c, on)
	if err != nil {
		return nil, err
	}
	if direction != "from-lport" && direction != "to-lport" {
		return nil, c.Errorf("direction %q: want from-lport or to-lport", direction)
	}
	if priority < 0 || priority > 32767 {
		return nil, c.Errorf("priority %d: want 0 to 32767", priority)
	}
	if !aclActions[action] {
		return nil, c.Errorf("action %q: want one of %s", action, strings.Join(sortedKeys(aclActions), ", "))
	}
	if err := checkMatch(c, "match", match); err != nil {
		return nil, err
	}
	cols := map[string]any{"direction": direction, "priority": priority, "match": match, "action": action,
		"name": name, "severity": severity, "meter": meter, "options": options, "external_ids": externalIDs}
	if err := aclLog(c, cols, log, name, severity, meter); err != nil {
		return nil, err
	}
	if label != nil {
		n, err := intArg(c, "label", label, 0, 1<<32-1)
		if err != nil {
			return nil, err
		}
		if action != "allow" && action != "allow-related" {
			return nil, c.Errorf("label= goes with action allow or allow-related (ovn-nbctl acl-add --label refuses %s)", action)
		}
		cols["label"] = n
	}
	if tier != nil {
		n, err := intArg(c, "tier", tier, 0, 3)
		if err != nil {
			return nil, err
		}
		// tier 0 is the column's default: left unset, an older NB, which
		// lacks the column, takes the ACL too.
		if n != 0 {
			cols["tier"] = n
		}
	}
	if err := checkACLOptions(c, options, direction, action, cols); err != nil {
		return nil, err
	}
	a := newRow(tableACL, aclName(ref, parent, cols), cols, parentID)
	a.link(ref, parent)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// aclName is the action name of an ACL: what ovn-nbctl acl-add tells ACLs
// apart by, "<on>/[tierN/]<direction>[/after-lb]/<priority>/<match>". A port
// group's name starts with "@", as matches name it, so that the ACLs of a
// switch and a port group of one name keep apart.
func aclName(ref *Ref, parent string, cols map[string]any) string {
	if ref == portGroupACLs {
		parent = "@" + parent
	}
	dir := cols["direction"].(string)
	if t, ok := cols["tier"].(int); ok {
		dir = fmt.Sprintf("tier%d/%s", t, dir)
	}
	if opts, _ := cols["options"].(interp.StringMap); opts["apply-after-lb"] == "true" {
		dir += "/after-lb"
	}
	return fmt.Sprintf("%s/%s/%d/%s", parent, dir, cols["priority"], cols["match"])
}

// aclParent resolves on=: a switch or a port group, or the name of one.
func aclParent(c *interp.Call, on starlark.Value) (ref *Ref, parent, id string, err error) {
	st := stateOf(c)
	switch v := on.(type) {
	case *Switch:
		return switchACLs, v.name, v.a.M.ID, nil
	case *PortGroup:
		return portGroupACLs, v.name, v.a.M.ID, nil
	}
	s, ok := starlark.AsString(on)
	if !ok {
		return nil, "", "", c.Errorf("on: got %s, want a logical switch or a port group, or its name", on.Type())
	}
	sw, pg := st.switches[s], st.portGroups[s]
	switch {
	case sw != nil && pg != nil:
		return nil, "", "", c.Errorf("on: %q is both a logical switch and a port group; pass the handle of the one you mean", s)
	case sw != nil:
		return switchACLs, s, sw.a.M.ID, nil
	case pg != nil:
		return portGroupACLs, s, pg.M.ID, nil
	}
	return nil, "", "", c.Errorf("on: no logical switch or port group %q is declared (declare it before referring to it)", s)
}

// aclLog sets the log column and checks the logging columns: name=,
// severity= and meter= imply log=True, as they do for ovn-nbctl acl-add,
// unless log=False says otherwise: a named ACL that does not log is common
// (ovn-kubernetes names every ACL and logs few), and the name labels it.
func aclLog(c *interp.Call, cols map[string]any, log starlark.Value, name, severity, meter string) error {
	implied := name != "" || severity != "" || meter != ""
	on := implied
	if log != nil {
		b, ok := log.(starlark.Bool)
		if !ok {
			return c.Errorf("log: got %s, want bool", log.Type())
		}
		on = bool(b)
	}
	if on {
		cols["log"] = true
	}
	if n := utf8.RuneCountInString(name); n > 63 {
		return c.Errorf("name %.20q...: %d characters, OVN allows 63", name, n)
	}
	if severity != "" && !aclSeverities[severity] {
		return c.Errorf("severity %q: want alert, warning, notice, info or debug", severity)
	}
	if meter != "" {
		if err := interp.CheckName(meter); err != nil {
			return c.Errorf("meter: %v", err)
		}
	}
	return nil
}

func checkACLOptions(c *interp.Call, options interp.StringMap, direction, action string, cols map[string]any) error {
	for _, k := range options.Keys() {
		v := options[k]
		if !aclOptions[k] {
			return c.Errorf("options: unknown ACL option %q; known: %s", k, strings.Join(sortedKeys(aclOptions), ", "))
		}
		if v != "true" && v != "false" {
			return c.Errorf("options: %s=%q: want true or false", k, v)
		}
		if v == "false" {
			continue
		}
		switch k {
		case "apply-after-lb":
			if direction != "from-lport" {
				return c.Errorf("options: apply-after-lb applies to from-lport ACLs only (ovn-nb(5))")
			}
		case "persist-established":
			if action != "allow-related" {
				return c.Errorf("options: persist-established applies to allow-related ACLs only (ovn-nb(5))")
			}
		case "log-related":
			if cols["log"] != true || cols["label"] == nil {
				return c.Errorf("options: log-related needs log=True and a label= unique to the ACL (ovn-nb(5))")
			}
		}
	}
	return nil
}
