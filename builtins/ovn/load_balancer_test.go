package ovn

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// lbTopology puts a load balancer with a health check on the switches named
// by the variable "on", on a gateway router and in a group on ls2.
const lbTopology = `
ls1 = ls("ls1")
ls2 = ls("ls2")
gw = lr("gw", chassis = "chassis-1")
web = load_balancer("web", vips = {"172.16.0.10:80": ["10.0.0.2:8080", "10.0.0.3:8080"]},
    health_check = {"172.16.0.10:80": {"interval": 5}},
    switches = var("on", "ls1 ls2").split(" "), routers = [gw])
load_balancer_group("g1", lbs = [web], switches = [ls2])
`

func lbNames(t *testing.T, nb *daemons.Server, table, row, column string) string {
	t.Helper()
	var names []string
	for _, u := range strings.Fields(strings.Trim(nbctl(t, nb, "--bare", "get", table, row, column), "[]")) {
		names = append(names, nbctl(t, nb, "--bare", "get", "Load_Balancer", strings.Trim(u, ","), "name"))
	}
	return strings.Join(names, " ")
}

func TestLoadBalancerOnSwitchesRouterAndGroup(t *testing.T) {
	nb := daemons.StartNB(t)
	// Another tool's switch with its own load balancer.
	nbctl(t, nb, "ls-add", "fsw")
	nbctl(t, nb, "lb-add", "flb", "192.0.2.10:80", "10.9.0.2:80")
	nbctl(t, nb, "ls-lb-add", "fsw", "flb")
	before := dump(t, nb)

	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", lbTopology, nil)
	apply(t, d, p)
	for _, sw := range []string{"ls1", "ls2"} {
		if got := lbNames(t, nb, "Logical_Switch", sw, "load_balancer"); got != "web" {
			t.Errorf("%s load_balancer = %q, want web", sw, got)
		}
	}
	if got := lbNames(t, nb, "Logical_Router", "gw", "load_balancer"); got != "web" {
		t.Errorf("gw load_balancer = %q, want web", got)
	}
	if got := lbNames(t, nb, "Load_Balancer_Group", "g1", "load_balancer"); got != "web" {
		t.Errorf("g1 load_balancer = %q, want web", got)
	}
	if got := nbctl(t, nb, "--bare", "--columns=vip,options", "list", "Load_Balancer_Health_Check"); got != "172.16.0.10:80\ninterval=5" {
		t.Errorf("health check = %q", got)
	}
	if got := nbctl(t, nb, "--bare", "get", "Load_Balancer", "web", "protocol"); got != "tcp" {
		t.Errorf("protocol = %q", got)
	}
	// The group has no external_ids: its ledger entry says it is ours, and
	// the second plan finds it unchanged.
	if got := nbctl(t, nb, "get", "NB_Global", ".", `external_ids:"ovnrun:row:test.star:load_balancer_group/g1"`); !strings.Contains(got, `\"table\":\"Load_Balancer_Group\"`) || !strings.Contains(got, `g1`) {
		t.Errorf("ledger entry of g1 = %s", got)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v", s)
	}

	// Another tool puts our load balancer on its switch: not ours to undo.
	nbctl(t, nb, "ls-lb-add", "fsw", "web")
	// Taken off ls2: one mutation of ls2, nothing else.
	p = evaluate(t, "test.star", lbTopology, map[string]string{"on": "ls1"})
	w := watch(t, nb.Sock)
	sc := plan(t, d, p)
	var changed []interp.Change
	for _, c := range sc[0].Changes {
		if c.Op != interp.OpUnchanged {
			changed = append(changed, c)
		}
	}
	want := []interp.FieldDiff{{Key: "switches", Old: []string{"ls1", "ls2"}, New: []string{"ls1"}}}
	if len(changed) != 1 || changed[0].Action.Meta().ID != "load_balancer/web" || !equalDiffs(changed[0].Diffs, want) {
		t.Fatalf("changes: %+v, want web's switches %+v", changed, want)
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	w.sync(t)
	if n := w.events.Load(); n != 1 || w.seen[0] != "Logical_Switch" {
		t.Errorf("the NB saw %d row changes (%v), want 1 (ls2)", n, w.seen)
	}
	if got := lbNames(t, nb, "Logical_Switch", "ls2", "load_balancer"); got != "" {
		t.Errorf("ls2 load_balancer = %q, want none", got)
	}
	if got := lbNames(t, nb, "Logical_Switch", "fsw", "load_balancer"); !strings.Contains(got, "web") {
		t.Errorf("fsw load_balancer = %q: the apply took web off a switch it does not own", got)
	}

	// Destroy removes web from fsw too, and leaves flb on it.
	destroy(t, d, p)
	if after := dump(t, nb); after != before {
		t.Errorf("destroy left other rows than the foreign ones:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := nbctl(t, nb, "get", "NB_Global", ".", "external_ids"); got != "{}" {
		t.Errorf("NB_Global external_ids after destroy = %s", got)
	}
}

// TestLoadBalancerGroupOwnership checks the NB_Global ledger of a table
// without external_ids: on an NB without NB_Global (no ovn-northd yet)
// ovnrun makes the row, as ovn-nbctl does; a group another tool made is
// refused, then adopted.
func TestLoadBalancerGroupOwnership(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", `load_balancer_group("g1")`+"\n"+`load_balancer_group("g2")`, nil)
	apply(t, d, p)
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v", s)
	}
	destroy(t, d, p)
	if got := nbctl(t, nb, "--bare", "--columns=name", "list", "Load_Balancer_Group"); got != "" {
		t.Errorf("groups after destroy: %q", got)
	}

	uuid := nbctl(t, nb, "create", "Load_Balancer_Group", "name=g1")
	// The driver's cache hears of another client's row asynchronously.
	waitCache(t, d, func(s *snapshot) bool { return s.byUUID[uuid] != nil })
	sc := plan(t, d, p)
	if c := sc[0].Changes[0]; !strings.Contains(c.Note, `Load_Balancer_Group "g1" exists and was not created by ovnrun`) {
		t.Errorf("plan for another tool's g1: %s %q", c.Op, c.Note)
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err == nil || !strings.Contains(err.Error(), "pass --adopt") {
		t.Errorf("apply err = %v", err)
	}
	adopter := connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	apply(t, adopter, p)
	if s := interp.Summarize(plan(t, adopter, p)); s.Line() != "No changes." {
		t.Errorf("after adopting: %+v", s)
	}
	other := connect(t, nb.Sock, func(c *NBConfig) { c.Owner = "other.star" })
	if c := plan(t, other, p)[0].Changes[0]; !strings.Contains(c.Note, `belongs to runbook "test.star"`) {
		t.Errorf("other runbook's note = %q", c.Note)
	}
}

// TestLoadBalancerEverySchema applies, re-plans and destroys lbTopology on
// an NB of each OVN version kept in ../shared/ovn-schemas: the columns and
// tables it writes, and Load_Balancer_Group without external_ids, are in
// all of them.
func TestLoadBalancerEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	schemas, _ := filepath.Glob("../../../shared/ovn-schemas/*.ovsschema")
	for _, schema := range append([]string{daemons.DefaultNBSchema}, schemas...) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(schema))
			d := connect(t, nb.Sock)
			p := evaluate(t, "test.star", lbTopology, nil)
			apply(t, d, p)
			if got := lbNames(t, nb, "Load_Balancer_Group", "g1", "load_balancer"); got != "web" {
				t.Errorf("g1 load_balancer = %q, want web", got)
			}
			if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
				t.Errorf("second plan: %+v", s)
			}
			destroy(t, d, p)
			for _, table := range []string{"Load_Balancer", "Load_Balancer_Health_Check", "Load_Balancer_Group", "Logical_Switch"} {
				if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
					t.Errorf("%s holds rows after destroy: %s", table, got)
				}
			}
		})
	}
}
