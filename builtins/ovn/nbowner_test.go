package ovn

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// foreignTopology builds, with ovn-nbctl as an operator would, rows of every
// table the driver manages; ovnrun must never touch them.
func foreignTopology(t *testing.T, nb *daemons.Server) {
	t.Helper()
	for _, cmd := range [][]string{
		{"ls-add", "fsw"},
		{"lsp-add", "fsw", "fport"},
		{"lsp-set-addresses", "fport", "0a:00:00:00:00:01 10.9.0.5"},
		{"lr-add", "frouter"},
		{"lrp-add", "frouter", "frp", "0a:00:00:00:00:fe", "10.9.0.254/24"},
		{"lrp-set-gateway-chassis", "frp", "chassis-x", "5"},
		{"lr-nat-add", "frouter", "snat", "192.0.2.1", "10.9.0.0/24"},
		{"lr-route-add", "frouter", "0.0.0.0/0", "10.9.0.1"},
		{"create", "DHCP_Options", "cidr=10.9.0.0/24", `options="lease_time"="3600"`},
	} {
		nbctl(t, nb, cmd...)
	}
}

// dump returns every managed table as ovn-nbctl lists it, rows sorted.
func dump(t *testing.T, nb *daemons.Server) string {
	t.Helper()
	var b strings.Builder
	for _, spec := range tables {
		lines := strings.Split(nbctl(t, nb, "--format=csv", "--no-headings", "list", spec.Name), "\n")
		sort.Strings(lines)
		b.WriteString(spec.Name + "\n" + strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

func destroy(t *testing.T, d *NBDriver, p *interp.Plan) []interp.StepChanges {
	t.Helper()
	var actions []interp.Action
	for _, s := range p.Steps {
		actions = append(actions, s.Actions...)
	}
	cs, err := d.PlanDestroy(testCtx(t), actions)
	if err != nil {
		t.Fatal(err)
	}
	sc := []interp.StepChanges{{Step: &interp.Step{Name: "destroy"}, Changes: cs}}
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestDestroyRemovesExactlyOwnRows(t *testing.T) {
	nb := daemons.StartNB(t)
	foreignTopology(t, nb)
	before := dump(t, nb)

	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	apply(t, d, p)
	sc := destroy(t, d, p)
	if s := interp.Summarize(sc); s.Destroy != 14 || s.Unchanged != 0 {
		t.Errorf("destroy plan: %+v, want 14 to destroy", s)
	}
	// Children are listed before their parents.
	var order []string
	for _, c := range sc[0].Changes {
		order = append(order, c.Action.Meta().Kind)
	}
	for _, tb := range tables {
		for _, ref := range tb.In {
			lastChild := -1
			for i, k := range order {
				if k == tb.Kind() {
					lastChild = i
				}
			}
			firstParent := slices.Index(order, strings.ToLower(ref.Table))
			if lastChild >= 0 && firstParent >= 0 && lastChild > firstParent {
				t.Errorf("destroy order lists a %s before a %s it holds: %s", ref.Table, tb.Name, strings.Join(order, " "))
			}
		}
	}
	if after := dump(t, nb); after != before {
		t.Errorf("destroy changed the foreign topology:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Destroying again finds nothing.
	if cs, err := d.PlanDestroy(testCtx(t), nil); err != nil || len(cs) != 0 {
		t.Errorf("second destroy plans %d changes, %v", len(cs), err)
	}
}

func TestDestroyKeepsSwitchHoldingForeignPort(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	apply(t, d, p)
	nbctl(t, nb, "lsp-add", "ls3", "intruder")
	waitCache(t, d, func(s *snapshot) bool { return s.named("Logical_Switch_Port", "intruder") != nil })

	sc := destroy(t, d, p)
	var kept []string
	for _, c := range sc[0].Changes {
		if c.Op == interp.OpUnchanged {
			kept = append(kept, c.Action.Meta().ID+": "+c.Note)
		}
	}
	want := `logical_switch/ls3: kept: it holds Logical_Switch_Port "intruder", which this runbook did not create`
	if len(kept) != 1 || kept[0] != want {
		t.Errorf("kept = %q, want [%q]", kept, want)
	}
	if got := nbctl(t, nb, "lsp-list", "ls3"); !strings.HasSuffix(got, "(intruder)") || strings.Contains(got, "\n") {
		t.Errorf("ls3 ports after destroy = %q, want only intruder", got)
	}
	if got := nbctl(t, nb, "ls-list"); !strings.HasSuffix(got, "(ls3)") || strings.Contains(got, "\n") {
		t.Errorf("switches after destroy = %q, want only ls3", got)
	}
}

func TestUnownedRowIsRefusedUnlessAdopted(t *testing.T) {
	nb := daemons.StartNB(t)
	nbctl(t, nb, "ls-add", "ls1")
	uuid := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Logical_Switch", "name=ls1")
	p := evaluate(t, "test.star", topology, nil)

	d := connect(t, nb.Sock)
	sc := plan(t, d, p)
	c := sc[0].Changes[0]
	if c.Op != interp.OpUpdate || !strings.Contains(c.Note, `Logical_Switch "ls1" exists and was not created by ovnrun`) ||
		!strings.Contains(c.Note, "--adopt") {
		t.Errorf("plan for an unowned ls1: %s %q", c.Op, c.Note)
	}
	err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to take it over (pass --adopt") || !strings.Contains(err.Error(), "test.star:4:13") {
		t.Errorf("apply err = %v", err)
	}
	if d.Transactions() != 0 || nbctl(t, nb, "ls-list") != uuid+" (ls1)" {
		t.Error("a refused apply changed the NB")
	}

	adopter := connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	sc = plan(t, adopter, p)
	if c := sc[0].Changes[0]; !strings.HasPrefix(c.Note, `adopting Logical_Switch "ls1"`) {
		t.Errorf("adopt note = %q", c.Note)
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(adopter), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Logical_Switch", "name=ls1"); got != uuid {
		t.Errorf("adopting replaced the row: %s -> %s", uuid, got)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after adopting: %+v", s)
	}

	// Another runbook's rows are foreign too.
	other := connect(t, nb.Sock, func(c *NBConfig) { c.Owner = "other.star" })
	if c := plan(t, other, p)[0].Changes[0]; !strings.Contains(c.Note, `belongs to runbook "test.star"`) {
		t.Errorf("other runbook's note = %q", c.Note)
	}
}

func TestStepIsAtomic(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	// A value only the server checks (a priority out of its range), late
	// in the step.
	a, _ := p.Action("gateway_chassis/lr1-ls3-chassis-1")
	a.(*Row).Cols["priority"] = 99999
	err := engine.ApplyChanges(testCtx(t), drivers(d), plan(t, d, p), nil)
	if err == nil || !strings.Contains(err.Error(), "gateway_chassis lr1-ls3-chassis-1 (test.star:14:20)") ||
		!strings.Contains(err.Error(), "rolled back") || !strings.Contains(err.Error(), `step "topology"`) {
		t.Errorf("err = %v", err)
	}
	for _, table := range []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "DHCP_Options"} {
		if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
			t.Errorf("%s has rows after a failed step: %s", table, got)
		}
	}
}

func TestConcurrentSameNameSwitchFailsTheStep(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	// Compare against the NB, then let another client create ls1 before
	// the transaction is sent: the wait guard must catch it.
	s, err := d.snapshot(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	tx := newTxn(d, s, 0)
	for _, a := range p.Steps[0].Actions {
		rp, err := d.diff(testCtx(t), s, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.add(rp); err != nil {
			t.Fatal(err)
		}
	}
	nbctl(t, nb, "ls-add", "ls1")
	err = tx.commit(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), `another client created Logical_Switch "ls1" meanwhile`) {
		t.Errorf("err = %v", err)
	}
	if got := nbctl(t, nb, "ls-list"); strings.Count(got, "\n") != 0 {
		t.Errorf("switches = %q, want only the other client's ls1", got)
	}
}

func TestFutureChassisName(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", topology, nil)
	a, _ := p.Action("gateway_chassis/lr1-ls3-chassis-1")
	a.(*Row).Cols["chassis_name"] = interp.NewFuture("host/gw", "system_id")

	sc := plan(t, d, p)
	if !strings.Contains(planText(t, p, sc), "chassis_name: (known after apply)") {
		t.Errorf("plan does not show the future:\n%s", planText(t, p, sc))
	}
	err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil)
	var unresolved *interp.UnresolvedError
	if !errors.As(err, &unresolved) || !strings.Contains(err.Error(), "gateway_chassis lr1-ls3-chassis-1 (test.star:14:20): chassis_name: system_id of host/gw") {
		t.Errorf("err = %v", err)
	}
	ctx := interp.WithOutputs(testCtx(t), interp.Outputs{"host/gw": {"system_id": "chassis-gw"}})
	if err := engine.ApplyChanges(ctx, drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "lrp-get-gateway-chassis", "lr1-ls3"); got != "lr1-ls3-chassis-1    10" {
		t.Errorf("gateway chassis = %q", got)
	}
	if got := nbctl(t, nb, "--bare", "--columns=chassis_name", "find", "Gateway_Chassis", "name=lr1-ls3-chassis-1"); got != "chassis-gw" {
		t.Errorf("chassis_name = %s", got)
	}
	sc, err = engine.PlanChanges(ctx, drivers(d), p.Steps)
	if err != nil || interp.Summarize(sc).Line() != "No changes." {
		t.Errorf("with the output known, plan = %+v, %v", interp.Summarize(sc), err)
	}
}

func TestWaitForNorthd(t *testing.T) {
	c := daemons.StartCentral(t)
	var log strings.Builder
	d := connect(t, c.NB.Sock, func(cfg *NBConfig) { cfg.Wait, cfg.Log = "hv", &log })
	apply(t, d, evaluate(t, "test.star", topology, nil))
	if !strings.Contains(log.String(), "nb: waited ") || !strings.Contains(log.String(), "hv_cfg reached nb_cfg 1") {
		t.Errorf("log = %q", log.String())
	}
	t.Log(strings.TrimSpace(log.String()))
	if got := nbctl(t, c.NB, "get", "NB_Global", ".", "nb_cfg"); got != "1" {
		t.Errorf("nb_cfg = %s, want 1", got)
	}
}

// waitCache waits until the driver's cache shows what another client did.
func waitCache(t *testing.T, d *NBDriver, ok func(*snapshot) bool) {
	t.Helper()
	err := poll.Until(testCtx(t), 5*time.Second, pollEvery, func() (bool, error) {
		s, err := d.snapshot(testCtx(t))
		return err == nil && ok(s), err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// killer kills the cluster's leader when the engine reports that the first
// step is done, so the next step's transaction finds the leader gone.
type killer struct {
	t    *testing.T
	cl   *daemons.NBCluster
	done bool
}

func (k *killer) Write(b []byte) (int, error) {
	if !k.done && strings.HasPrefix(string(b), "Step topology:") {
		k.done = true
		i, err := k.cl.KillLeader()
		k.t.Logf("killed leader s%d: %v", i+1, err)
	}
	return len(b), nil
}

func TestClusterLeaderKilledDuringApply(t *testing.T) {
	cl := daemons.StartNBCluster(t, 3)
	var log strings.Builder
	d := connect(t, strings.Join(cl.Endpoints(), ","), func(c *NBConfig) {
		c.Endpoints, c.Log = cl.Endpoints(), &log
	})
	src := topology + `
def more():
    ls2 = ls("ls2", subnet="172.16.2.0/24")
    lsp(ls2, "vm2", mac="04:ac:10:ff:02:01", ips=["172.16.2.10"])
    lsp("ls1", "vm3", mac="04:ac:10:ff:01:03", ips=["172.16.1.30"])
    lrp("lr1", "lr1-ls2", mac="00:00:00:00:02:00", networks=["172.16.2.254/24"], peer=ls2)
step("more", more)
`
	p := evaluate(t, "test.star", src, nil)
	start := time.Now()
	if err := engine.ApplyChanges(testCtx(t), drivers(d), plan(t, d, p), &killer{t: t, cl: cl}); err != nil {
		t.Fatal(err)
	}
	t.Logf("applied in %v; driver log: %q", time.Since(start).Round(time.Millisecond), log.String())
	if _, err := cl.WaitLeader(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	out, err := cl.NBCtl("--bare", "--columns=name", "list", "Logical_Switch")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out); len(got) != 3 {
		t.Errorf("switches = %v, want ls1, ls2, ls3 once each", got)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after the apply: %+v", s)
	}
}

// TestClusterLeaderKilledMidTransaction kills the leader while a large
// step's transaction is probably in flight: whether it was committed or not,
// the driver reconnects, recompares and ends with every row exactly once,
// and reports the rows created.
func TestClusterLeaderKilledMidTransaction(t *testing.T) {
	src := "def f():\n    for i in range(300):\n        s = ls('sw%d' % i)\n        for j in range(5):\n            lsp(s, 'p%d_%d' % (i, j))\nstep('big', f)\n"
	for _, delay := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			cl := daemons.StartNBCluster(t, 3)
			var log strings.Builder
			d := connect(t, "", func(c *NBConfig) { c.Endpoints, c.Log = cl.Endpoints(), &log })
			p := evaluate(t, "test.star", src, nil)
			sc := plan(t, d, p)
			go func() {
				time.Sleep(delay)
				cl.KillLeader()
			}()
			start := time.Now()
			var progress strings.Builder
			if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, &progress); err != nil {
				t.Fatal(err)
			}
			t.Logf("applied in %v with %d transaction(s); log: %q", time.Since(start).Round(time.Millisecond), d.Transactions(), log.String())
			// Whichever attempt created the rows, this step created them.
			if !strings.Contains(progress.String(), "Step big: 1800 created (") {
				t.Errorf("progress:\n%s", progress.String())
			}
			if _, err := cl.WaitLeader(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			out, err := cl.NBCtl("--bare", "--columns=name", "list", "Logical_Switch")
			if err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Fields(out)); n != 300 {
				t.Errorf("%d switches, want 300", n)
			}
			if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
				t.Errorf("after the apply: %+v", s)
			}
		})
	}
}

// A step that must insert the NB_Global row the NB lacks (here, for the
// ledger of a table without external_ids) races ovn-northd creating it
// when it starts: the transaction is refused, and the step, compared
// again, updates the row that is there now.
func TestNBGlobalRace(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	src := "def f():\n    r = lr('r')\n    p = lrp(r, 'p', mac = '0a:00:00:00:00:01', networks = ['172.16.1.1/24'])\n" +
		"    static_mac_binding(p, '172.16.1.77', '0a:00:00:00:00:77')\nstep('s', f)\n"
	p := evaluate(t, "test.star", src, nil)
	s, err := d.snapshot(testCtx(t))
	if err != nil || s.global != nil {
		t.Fatalf("snapshot: global %v, err %v", s.global, err)
	}
	tx := newTxn(d, s, 0)
	for _, a := range p.Steps[0].Actions {
		rp, err := d.diff(testCtx(t), s, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.add(rp); err != nil {
			t.Fatal(err)
		}
	}
	nbctl(t, nb, "init") // what ovn-northd does when it starts
	var race *globalRaceError
	if err := tx.commit(testCtx(t)); !errors.As(err, &race) {
		t.Fatalf("commit: %v, want the NB_Global race", err)
	}
	sc := plan(t, d, p)
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "NB_Global"); strings.Count(strings.TrimSpace(got), "\n") != 0 {
		t.Fatalf("NB_Global rows: %q", got)
	}
}
