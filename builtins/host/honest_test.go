package host_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/interp"
)

// earlierStepDecides: step prepare undoes what the plan of step guarded
// saw (the creates= file, the unless= flag) and does what it planned (the
// route, the other creates= file).
const earlierStepDecides = `
h0 = host("h0", address = var("address", "177.1.1.1"))
home = var("home", "/root")
gw = var("gw", "177.1.1.254")

def prepare():
    sh(h0, "rm %s/marker %s/flag; touch %s/done; ip route replace 192.0.2.0/24 via %s" % (home, home, home, gw), name = "flip")

def guarded():
    sh(h0, "touch %s/marker; echo ran >> %s/creates.log" % (home, home), creates = home + "/marker", name = "creates")
    sh(h0, "echo ran >> %s/unless.log" % home, unless = ["test", "-e", home + "/flag"], name = "unless")
    sh(h0, "echo ran >> %s/done.log" % home, creates = home + "/done", name = "done")
    ip_route(h0, "192.0.2.0/24", via = gw)

step("prepare", prepare)
step("guarded", guarded)
`

// TestAppliedOpIsReported: where an earlier step changed what the plan saw,
// the progress lines, the step summary, the closing line and the journal
// say what apply did: guarded commands planned not to run ran, and a
// command and a route planned to run and be created were found done.
func TestAppliedOpIsReported(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0")
	l.WriteKnownHosts("known_hosts")
	home := filepath.Join(h.Dir, "home")
	for _, f := range []string{"marker", "flag"} {
		if err := os.WriteFile(filepath.Join(home, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gw := strings.TrimSuffix(h.Addr, ".10") + ".1"
	r := newRun(t, l, evaluate(t, earlierStepDecides, map[string]string{"address": h.Addr, "home": home, "gw": gw}), l.Inventory(nil), nil, "")
	plan := r.plan
	j, err := engine.OpenJournal(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}

	ctx := engine.WithRecorder(context.Background(), j)
	planned, err := engine.PlanChanges(ctx, r.drivers, plan.Steps)
	if err != nil {
		t.Fatal(err)
	}
	var shown strings.Builder
	if err := interp.WriteText(&shown, plan, planned); err != nil {
		t.Fatal(err)
	}
	route := "ip_route h0/192.0.2.0/24"
	for _, want := range []string{"= sh h0/creates", "= sh h0/unless", "> sh h0/done", "+ " + route} {
		if !strings.Contains(shown.String(), want) {
			t.Fatalf("the plan lacks %q, which this test is about:\n%s", want, shown.String())
		}
	}
	if err := engine.ApplyChanges(ctx, r.drivers, planned, &shown); err != nil {
		t.Fatalf("%v\n%s%s", err, shown.String(), r.out)
	}
	out := shown.String()
	for _, want := range []string{
		"[h0] sh h0/creates: run (", "[h0] sh h0/unless: run (", "[h0] sh h0/done: unchanged (", "[h0] " + route + ": unchanged (",
		"Step guarded: 2 run, 2 unchanged (", "guarded  ", "2 run, 2 unchanged\n",
		": 3 run, 2 unchanged.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	checkEq(t, "creates.log", readFile(t, filepath.Join(home, "creates.log")), "ran\n")
	checkEq(t, "unless.log", readFile(t, filepath.Join(home, "unless.log")), "ran\n")
	if _, err := os.Stat(filepath.Join(home, "done.log")); err == nil {
		t.Error("sh h0/done ran although step prepare had made its creates= file")
	}

	done := j.Completed()
	for id, want := range map[string]interp.Op{
		"sh/h0/flip": interp.OpRun, "sh/h0/creates": interp.OpRun, "sh/h0/unless": interp.OpRun,
		"sh/h0/done": interp.OpUnchanged, "ip_route/h0/192.0.2.0/24": interp.OpUnchanged,
	} {
		if got := done[id].Op; got != want {
			t.Errorf("journal: %s op %q, want %q", id, got, want)
		}
	}
	// A resumed run counts every one of them done, whatever its op.
	for _, d := range j.ResumeDecisions(plan.Steps) {
		if d.Status != engine.ResumeSkip {
			t.Errorf("resume: %s is %s, want skip", d.Action.Meta().ID, d.Status)
		}
	}
}
