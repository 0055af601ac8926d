package ovn

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// aclTopology is a switch with three ports, a port group of some of them
// (var "ports"), an address set, and ACLs on the switch and on the port
// group; var "tier" adds a pass ACL of that tier.
const aclTopology = `
def f():
    sw = ls("sw")
    for i in (1, 2, 3):
        lsp(sw, "p%d" % i, mac = "04:ac:10:ff:01:0%d" % i, ips = ["10.0.0.%d" % i])
    pg = port_group("pg", ports = var("ports", "p1,p2").split(","))
    address_set("as4", addresses = ["10.0.0.0/8"])
    acl(sw, "to-lport", 1001, "outport == @pg && ip4.src == $as4", "allow-related")
    acl(pg, "from-lport", 900, "inport == @pg && ip4.dst == $pg_ip4", "drop", name = "deny", severity = "info")
    acl(pg, "to-lport", 1000, "outport == @pg", "allow", label = 9)
    tier = var("tier", "")
    if tier:
        acl(pg, "to-lport", 10, "1", "pass", tier = int(tier))
step("acls", f)
`

func aclPlan(t *testing.T, vars map[string]string) *interp.Plan {
	t.Helper()
	return evaluate(t, "test.star", aclTopology, vars)
}

// TestACLFamilyOnEverySchema applies, re-plans and destroys the ACL family
// on an NB of each OVN version: an unset tier (23.09 and later) must not
// show as a change, and tier= on an older NB is a plan-time error.
func TestACLFamilyOnEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	schemas, _ := filepath.Glob("../../../shared/ovn-schemas/*.ovsschema")
	if len(schemas) == 0 {
		t.Log("no ../shared/ovn-schemas: testing the installed schema only")
	}
	for _, schema := range append([]string{daemons.DefaultNBSchema}, schemas...) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(schema))
			d := connect(t, nb.Sock)
			hasTier := d.db.Check("ACL", "tier") == nil
			p := aclPlan(t, nil)
			apply(t, d, p)
			if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
				t.Errorf("second plan: %s\n%s", s.Line(), planText(t, p, plan(t, d, p)))
			}
			tiered := aclPlan(t, map[string]string{"tier": "2"})
			_, err := engine.PlanChanges(testCtx(t), drivers(d), tiered.Steps)
			switch {
			case hasTier && err != nil:
				t.Errorf("tier on an NB with the column: %v", err)
			case !hasTier && (err == nil || !strings.Contains(err.Error(), "column tier of table ACL is not in the server's OVN_Northbound schema version "+nb.SchemaVersion)):
				t.Errorf("tier on an NB without the column: err = %v", err)
			}
			if !hasTier {
				// action pass came with tier: planning against an older NB
				// refuses it, naming the ACL and the server's schema.
				pass := aclPlan(t, map[string]string{"tier": "0"})
				_, err := engine.PlanChanges(testCtx(t), drivers(d), pass.Steps)
				if err == nil || !strings.Contains(err.Error(), `acl @pg/to-lport/10/1 (test.star:13:12): column action of table ACL: "pass" is not allowed by the server's OVN_Northbound schema version `+nb.SchemaVersion) {
					t.Errorf("pass on an NB without it: err = %v", err)
				}
			}
			if hasTier {
				apply(t, d, tiered)
				// ovn-nbctl of an older OVN cannot read the column: read the cache.
				waitCache(t, d, func(s *snapshot) bool {
					for _, r := range s.byTable["ACL"] {
						if r.cols["priority"] == 10 {
							return r.cols["tier"] == 2 && r.cols["action"] == "pass"
						}
					}
					return false
				})
				if s := interp.Summarize(plan(t, d, tiered)); s.Line() != "No changes." {
					t.Errorf("second plan of the tiered ACL: %s", s.Line())
				}
			}
			destroy(t, d, p)
			for _, table := range []string{"ACL", "Port_Group", "Address_Set", "Logical_Switch"} {
				if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
					t.Errorf("%s holds rows after destroy: %s", table, got)
				}
			}
		})
	}
}

// TestPortGroupPortsChangeInOneUpdate changes the ports of a port group
// between two applies (one added, one removed): one update of its ports
// column, the same row.
func TestPortGroupPortsChangeInOneUpdate(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	apply(t, d, aclPlan(t, nil))
	uuid := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Port_Group", "name=pg")

	p := aclPlan(t, map[string]string{"ports": "p2,p3"})
	sc := plan(t, d, p)
	var changed []string
	for _, c := range sc[0].Changes {
		if c.Op != interp.OpUnchanged {
			changed = append(changed, c.Action.Meta().ID)
		}
	}
	if len(changed) != 1 || changed[0] != "port_group/pg" {
		t.Fatalf("changes = %q, want only port_group/pg\n%s", changed, planText(t, p, sc))
	}
	c := sc[0].Changes[slices.IndexFunc(sc[0].Changes, func(c interp.Change) bool { return c.Op == interp.OpUpdate })]
	want := []interp.FieldDiff{{Key: "ports",
		Old: []rowRef{{"logical_switch_port/p1"}, {"logical_switch_port/p2"}},
		New: []rowRef{{"logical_switch_port/p2"}, {"logical_switch_port/p3"}}}}
	if !equalDiffs(c.Diffs, want) {
		t.Errorf("diffs = %+v, want %+v", c.Diffs, want)
	}
	before := d.Transactions()
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if n := d.Transactions() - before; n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Port_Group", "name=pg"); got != uuid {
		t.Errorf("the port group was replaced: %s -> %s", uuid, got)
	}
	var names []string
	for _, u := range strings.Fields(nbctl(t, nb, "--bare", "--columns=ports", "list", "Port_Group", "pg")) {
		names = append(names, nbctl(t, nb, "--bare", "--columns=name", "list", "Logical_Switch_Port", u))
	}
	if slices.Sort(names); !slices.Equal(names, []string{"p2", "p3"}) {
		t.Errorf("ports of pg = %q, want p2 p3", names)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after the update: %s", s.Line())
	}
}

// TestDestroyLeavesForeignParentsOfACLs destroys ACLs whose switch and port
// group stay: the switch because another tool owns it now, the port group
// because it holds another tool's ACL. Destroy removes our ACLs from their
// acls columns (the server refuses to delete a row still referenced) and
// leaves the other tool's ACL.
func TestDestroyLeavesForeignParentsOfACLs(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := aclPlan(t, nil)
	apply(t, d, p)
	// Let the driver see its own transaction first: it waits for the rows
	// it wrote to show what it wrote.
	plan(t, d, p)
	// The operator takes the switch over, and adds an ACL of their own to
	// the port group.
	nbctl(t, nb, "remove", "Logical_Switch", "sw", "external_ids", `"`+TagRunbook+`"`)
	nbctl(t, nb, "acl-add", "pg", "to-lport", "5", "outport == @pg", "drop")
	waitCache(t, d, func(s *snapshot) bool {
		return len(s.byTable["ACL"]) == 4 && !s.ownedByUs(s.named("Logical_Switch", "sw"))
	})

	sc := destroy(t, d, p)
	var kept []string
	for _, c := range sc[0].Changes {
		if c.Op == interp.OpUnchanged {
			kept = append(kept, c.Action.Meta().ID+": "+c.Note)
		}
	}
	want := []string{"port_group/pg: kept: it holds ACL " + nbctl(t, nb, "--bare", "--columns=_uuid", "find", "ACL", "priority=5") +
		", which this runbook did not create"}
	if !slices.Equal(kept, want) {
		t.Errorf("kept = %q, want %q", kept, want)
	}
	if got := nbctl(t, nb, "--bare", "--columns=acls", "list", "Logical_Switch", "sw"); got != "" {
		t.Errorf("acls of sw after destroy = %q, want none", got)
	}
	if got := nbctl(t, nb, "acl-list", "pg"); got != `to-lport     5 (outport == @pg) drop` {
		t.Errorf("ACLs of pg after destroy = %q, want the other tool's only", got)
	}
	if got := nbctl(t, nb, "--bare", "--columns=name", "list", "Logical_Switch"); got != "sw" {
		t.Errorf("switches after destroy = %q, want sw", got)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Address_Set"); got != "" {
		t.Errorf("address sets after destroy = %q", got)
	}
}

// TestForeignACLWithSameKeyIsRefusedUnlessAdopted: an ACL another tool put
// on the switch with the same direction, priority and match is the ACL
// ovn-nbctl acl-add would refuse to add again: a conflict, adopted (not
// duplicated) with --adopt.
func TestForeignACLWithSameKeyIsRefusedUnlessAdopted(t *testing.T) {
	nb := daemons.StartNB(t)
	nbctl(t, nb, "ls-add", "sw")
	nbctl(t, nb, "acl-add", "sw", "to-lport", "1001", "outport == @pg && ip4.src == $as4", "drop")
	uuid := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "ACL")
	// Another switch's ACL with the same key is another ACL.
	nbctl(t, nb, "ls-add", "other", "--", "acl-add", "other", "from-lport", "900", "inport == @pg && ip4.dst == $pg_ip4", "drop")
	p := aclPlan(t, nil)
	adopter := connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	sc := plan(t, adopter, p)
	notes := map[string]string{}
	for _, c := range sc[0].Changes {
		notes[c.Action.Meta().ID] = string(c.Op) + " " + c.Note
	}
	id := "acl/sw/to-lport/1001/outport == @pg && ip4.src == $as4"
	if n := notes[id]; !strings.Contains(n, "adopting ACL row "+uuid+", which was not created by ovnrun") {
		t.Errorf("%s: %q", id, n)
	}
	if n := notes["acl/@pg/from-lport/900/inport == @pg && ip4.dst == $pg_ip4"]; !strings.HasPrefix(n, string(interp.OpCreate)) {
		t.Errorf("the port group's ACL: %q, want a new row", n)
	}

	d := connect(t, nb.Sock)
	err := engine.ApplyChanges(testCtx(t), drivers(d), plan(t, d, p), nil)
	if err == nil || !strings.Contains(err.Error(), "ACL row "+uuid+" exists and was not created by ovnrun: refusing") {
		t.Errorf("apply without --adopt: %v", err)
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(adopter), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid,action", "find", "ACL", "priority=1001"); got != uuid+"\nallow-related" {
		t.Errorf("adopted ACL = %q, want %s updated to allow-related", got, uuid)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after adopting: %s", s.Line())
	}
}
