package ovn

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// haTopology is a distributed gateway port and an external port on an HA
// chassis group of three chassis.
const haTopology = `
def ha():
    g = ha_chassis_group("g1", chassis={"chassis-a": 30, "chassis-b": 20, "chassis-c": 10})
    ext = ls("ext")
    r = lr("gw")
    lrp(r, "lr1-ext", mac="00:00:00:00:03:00", networks=["172.16.3.254/24"], peer=ext, ha_chassis_group=g)
    lsp(ext, "bm1", mac="04:ac:10:ff:03:05", ips=["172.16.3.5"], type="external", ha_chassis_group=g)
step("ha", ha)
`

func TestHAChassisGroup(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", haTopology, nil)
	apply(t, d, p)

	g := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "HA_Chassis_Group", "name=g1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bare", "--columns=chassis_name,priority", "list", "HA_Chassis"}, "chassis-a\n30\n\nchassis-b\n20\n\nchassis-c\n10"},
		{[]string{"get", "Logical_Router_Port", "lr1-ext", "ha_chassis_group"}, g},
		{[]string{"get", "Logical_Switch_Port", "bm1", "ha_chassis_group"}, g},
	} {
		got := nbctl(t, nb, tc.args...)
		if tc.args[1] == "--columns=chassis_name,priority" {
			got = sortedBlocks(got)
		}
		if got != tc.want {
			t.Errorf("ovn-nbctl %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	held := strings.Fields(nbctl(t, nb, "--bare", "--columns=ha_chassis", "list", "HA_Chassis_Group"))
	all := strings.Fields(nbctl(t, nb, "--bare", "--columns=_uuid", "list", "HA_Chassis"))
	slices.Sort(held)
	slices.Sort(all)
	if len(all) != 3 || !slices.Equal(held, all) {
		t.Errorf("g1 holds %v, want the HA_Chassis rows %v", held, all)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v", s)
	}

	// A chassis' priority changed by hand is drift on that row only.
	nbctl(t, nb, "ha-chassis-group-add-chassis", "g1", "chassis-b", "25")
	waitCache(t, d, func(s *snapshot) bool {
		for _, r := range s.byTable["HA_Chassis"] {
			if r.cols["priority"] == 25 {
				return true
			}
		}
		return false
	})
	sc := plan(t, d, p)
	var changed []string
	for _, c := range sc[0].Changes {
		if c.Op != interp.OpUnchanged {
			changed = append(changed, c.Action.Meta().ID)
		}
	}
	if strings.Join(changed, " ") != "ha_chassis/g1/chassis-b" {
		t.Errorf("changed = %v, want only ha_chassis/g1/chassis-b", changed)
	}

	destroy(t, d, p)
	for _, table := range []string{"HA_Chassis_Group", "HA_Chassis"} {
		if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
			t.Errorf("%s holds rows after destroy: %s", table, got)
		}
	}
}

// sortedBlocks sorts the blank-line separated records of ovn-nbctl --bare.
func sortedBlocks(s string) string {
	b := strings.Split(s, "\n\n")
	slices.Sort(b)
	return strings.Join(b, "\n\n")
}

// TestLiveHAGroupOnGatewayChassisPort: a port the runbook gives gateway
// chassis, on which another tool set an HA chassis group, would have its
// gateway chassis ignored by ovn-northd. The group is a column the runbook
// manages on the port: the plan shows it going, and apply removes it.
func TestLiveHAGroupOnGatewayChassisPort(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	apply(t, d, p)
	plan(t, d, p) // the driver settles on its own transaction before another client's
	nbctl(t, nb, "ha-chassis-group-add", "hand")
	g := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "HA_Chassis_Group", "name=hand")
	nbctl(t, nb, "set", "Logical_Router_Port", "lr1-ls3", "ha_chassis_group="+g)
	waitCache(t, d, func(s *snapshot) bool {
		return s.named("Logical_Router_Port", "lr1-ls3").refs("ha_chassis_group") != nil
	})

	sc := plan(t, d, p)
	var diffs []string
	for _, c := range sc[0].Changes {
		for _, df := range c.Diffs {
			diffs = append(diffs, c.Action.Meta().ID+" "+df.Key)
		}
	}
	if strings.Join(diffs, ",") != "logical_router_port/lr1-ls3 ha_chassis_group" {
		t.Errorf("plan diffs = %q, want the group removed from lr1-ls3\n%s", diffs, planText(t, p, sc))
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "get", "Logical_Router_Port", "lr1-ls3", "ha_chassis_group"); got != "[]" {
		t.Errorf("lr1-ls3 ha_chassis_group = %s, want []", got)
	}
	if got := nbctl(t, nb, "lrp-get-gateway-chassis", "lr1-ls3"); got != "lr1-ls3-chassis-1    10" {
		t.Errorf("gateway chassis = %q", got)
	}
	if got := nbctl(t, nb, "--bare", "--columns=name", "list", "HA_Chassis_Group"); got != "hand" {
		t.Errorf("groups = %q, want the other tool's group kept", got)
	}
}

func TestHAChassisFutureName(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", haTopology, nil)
	a, _ := p.Action("ha_chassis/g1/chassis-a")
	a.(*Row).Cols["chassis_name"] = interp.NewFuture("host/gw", "system_id")

	sc := plan(t, d, p)
	if !strings.Contains(planText(t, p, sc), "chassis_name: (known after apply)") {
		t.Errorf("plan does not show the future:\n%s", planText(t, p, sc))
	}
	err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil)
	var unresolved *interp.UnresolvedError
	if !errors.As(err, &unresolved) || !strings.Contains(err.Error(), "ha_chassis g1/chassis-a (test.star:3:25): chassis_name: system_id of host/gw") {
		t.Errorf("err = %v", err)
	}
	ctx := interp.WithOutputs(testCtx(t), interp.Outputs{"host/gw": {"system_id": "chassis-gw"}})
	if err := engine.ApplyChanges(ctx, drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "--bare", "--columns=priority", "find", "HA_Chassis", "chassis_name=chassis-gw"); got != "30" {
		t.Errorf("priority of chassis-gw = %q, want 30", got)
	}
	sc, err = engine.PlanChanges(ctx, drivers(d), p.Steps)
	if err != nil || interp.Summarize(sc).Line() != "No changes." {
		t.Errorf("with the output known, plan = %+v, %v", interp.Summarize(sc), err)
	}
}
