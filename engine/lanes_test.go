package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// laneDriver records the batches it is given and can block, to show that
// lanes run concurrently, or fail for one host.
type laneDriver struct {
	name    string
	mu      sync.Mutex
	batches []string
	failFor string        // a host whose batches fail
	meet    chan struct{} // if set, Apply waits until another Apply arrives
	wait    time.Duration // how long it waits
}

func (d *laneDriver) Name() string { return d.name }
func (d *laneDriver) Close() error { return nil }
func (d *laneDriver) Plan(_ context.Context, as []interp.Action) ([]interp.Change, error) {
	cs := make([]interp.Change, len(as))
	for i, a := range as {
		cs[i] = interp.Change{Action: a, Op: interp.OpCreate}
	}
	return cs, nil
}

func (d *laneDriver) Apply(_ context.Context, cs []interp.Change) (interp.Outcomes, error) {
	var names []string
	for _, c := range cs {
		names = append(names, c.Action.Meta().Name)
	}
	d.mu.Lock()
	d.batches = append(d.batches, strings.Join(names, "+"))
	d.mu.Unlock()
	if d.meet != nil {
		select {
		case d.meet <- struct{}{}:
		case <-d.meet:
		case <-time.After(d.wait):
			return nil, fmt.Errorf("no other lane applied concurrently")
		}
	}
	if host := cs[0].Action.Meta().Host; host != "" && host == d.failFor {
		return nil, fmt.Errorf("host is down")
	}
	out := interp.Outcomes{}
	for _, c := range cs {
		out[c.Action.Meta().ID] = interp.Outcome{Op: c.Op, Outputs: map[string]string{"done": "yes"}}
	}
	return out, nil
}

func hostAct(driver, host, name string, mode interp.Mode) *fakeAction {
	return &fakeAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "fake/" + name, Kind: "fake", Name: name, Driver: driver, Host: host, Mode: mode}}}
}

// memRecorder is a Recorder keeping what it is told, in order.
type memRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *memRecorder) RecordStart(a interp.Action, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "start "+a.Meta().Name)
	return nil
}

func (r *memRecorder) Record(recs ...ActionRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		r.events = append(r.events, fmt.Sprintf("done %s %s", rec.ID, rec.Outputs["done"]))
	}
	return nil
}

func (r *memRecorder) RecordOutputs(string, map[string]string) error { return nil }

func planStep(t *testing.T, drivers map[string]interp.Driver, actions ...interp.Action) []interp.StepChanges {
	t.Helper()
	planned, err := PlanChanges(context.Background(), drivers, []*interp.Step{{Name: "s", Actions: actions}})
	if err != nil {
		t.Fatal(err)
	}
	return planned
}

func TestLanesBatchByHostDriverAndCommand(t *testing.T) {
	host, ovs, nb := &laneDriver{name: "host"}, &laneDriver{name: "ovs"}, &laneDriver{name: "nb"}
	drivers := map[string]interp.Driver{"host": host, "ovs": ovs, "nb": nb}
	planned := planStep(t, drivers,
		hostAct("host", "h0", "svc1", interp.Resource),
		hostAct("host", "h0", "svc2", interp.Resource),
		hostAct("nb", "", "ls1", interp.Resource),
		hostAct("ovs", "h0", "ids", interp.Resource),
		hostAct("host", "h0", "sh1", interp.Command),
		hostAct("host", "h0", "sh2", interp.Command),
		hostAct("host", "h0", "svc4", interp.Resource), // a batch after a command
		hostAct("host", "h1", "svc3", interp.Resource),
		hostAct("nb", "", "ls2", interp.Resource),
	)
	rec := &memRecorder{}
	ctx := WithRecorder(context.Background(), rec)
	var progress strings.Builder
	if err := ApplyChanges(ctx, drivers, planned, &progress); err != nil {
		t.Fatal(err)
	}
	// h0's and h1's host batches interleave in any order; per lane, order holds.
	if got, want := strings.Join(nb.batches, " "), "ls1+ls2"; got != want {
		t.Errorf("nb batches %q, want %q: one call (one transaction) per step", got, want)
	}
	if got, want := strings.Join(ovs.batches, " "), "ids"; got != want {
		t.Errorf("ovs batches %q, want %q", got, want)
	}
	var h0 []string
	for _, b := range host.batches {
		if b != "svc3" {
			h0 = append(h0, b)
		}
	}
	if got, want := strings.Join(h0, " "), "svc1+svc2 sh1 sh2 svc4"; got != want {
		t.Errorf("h0 host batches %q, want %q: commands go alone, in order", got, want)
	}
	// Other lanes record as they finish, between a command's start and
	// done: the commands' own events are in order.
	events := strings.Join(rec.events, "\n")
	var commands []string
	for _, e := range rec.events {
		if strings.Contains(e, "sh1") || strings.Contains(e, "sh2") {
			commands = append(commands, e)
		}
	}
	if got, want := strings.Join(commands, "\n"), "start sh1\ndone fake/sh1 yes\nstart sh2\ndone fake/sh2 yes"; got != want {
		t.Errorf("journal events of the commands are %q, want %q:\n%s", got, want, events)
	}
	for _, want := range []string{"done fake/ls1 yes", "done fake/svc3 yes"} {
		if !strings.Contains(events, want) {
			t.Errorf("journal events lack %q:\n%s", want, events)
		}
	}
	if !strings.Contains(progress.String(), "[h1] fake svc3: create") {
		t.Errorf("progress lacks the host prefix:\n%s", progress.String())
	}
}

func TestLanesRunConcurrently(t *testing.T) {
	d := &laneDriver{name: "host", meet: make(chan struct{}), wait: 5 * time.Second}
	drivers := map[string]interp.Driver{"host": d}
	planned := planStep(t, drivers, hostAct("host", "h0", "a", interp.Resource), hostAct("host", "h1", "b", interp.Resource))
	if err := ApplyChanges(context.Background(), drivers, planned, nil); err != nil {
		t.Fatalf("%v (with WithParallel(1) this must fail; by default it must not)", err)
	}
	d.wait = 100 * time.Millisecond
	ctx := WithParallel(context.Background(), 1)
	if err := ApplyChanges(ctx, drivers, planned, nil); err == nil {
		t.Error("with one lane at a time, the two lanes met: the bound is not applied")
	}
}

func TestFailingHostKeepsOthers(t *testing.T) {
	d := &laneDriver{name: "host", failFor: "h1"}
	drivers := map[string]interp.Driver{"host": d}
	planned := planStep(t, drivers, hostAct("host", "h0", "a", interp.Resource), hostAct("host", "h1", "b", interp.Resource))
	rec := &memRecorder{}
	err := ApplyChanges(WithRecorder(context.Background(), rec), drivers, planned, nil)
	if err == nil || !strings.Contains(err.Error(), `step "s": h1: host is down`) {
		t.Fatalf("got %v, want the failing host named", err)
	}
	if got := strings.Join(rec.events, ","); got != "done fake/a yes" {
		t.Errorf("journal %q, want h0's action recorded and h1's not", got)
	}
}

// TestSkippedActionOutputsAreReadable: a resumed run skips an action an
// earlier run applied; an output of it the journal lacks is read from its
// driver when a later action needs it.
func TestSkippedActionOutputsAreReadable(t *testing.T) {
	var log []string
	a := &fakeDriver{name: "a", log: &log}
	b := &fakeDriver{name: "b", log: &log, readable: map[string]string{"fake/b1.late": "L"}}
	drivers := map[string]interp.Driver{"a": a, "b": b}
	b1, a2 := act("b", "b1"), act("a", "a2")
	a2.needs = interp.NewFuture("fake/b1", "late")
	planned := []interp.StepChanges{
		{Step: &interp.Step{Name: "one"}, Changes: []interp.Change{{Action: b1, Op: interp.OpSkip, Note: "done in run r1"}}},
		{Step: &interp.Step{Name: "two"}, Changes: []interp.Change{{Action: a2, Op: interp.OpCreate}}},
	}
	if err := ApplyChanges(context.Background(), drivers, planned, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, " "); !strings.Contains(got, "a.Apply(a2=L)") || strings.Contains(got, "b.Apply") {
		t.Errorf("calls %q: want a2 to get b1's output from b, and b1 not applied", got)
	}
}

// TestRunParallelOption: Options.Parallel (ovnrun --parallel) bounds the
// lanes of a whole run: with 1, two hosts' lanes never meet; by default
// they do.
func TestRunParallelOption(t *testing.T) {
	plan := &interp.Plan{Runbook: "lanes.star", Steps: []*interp.Step{{Name: "s", Actions: []interp.Action{
		hostAct("host", "h0", "a", interp.Resource), hostAct("host", "h1", "b", interp.Resource)}}}}
	run := func(parallel int, wait time.Duration) error {
		d := &laneDriver{name: "host", meet: make(chan struct{}), wait: wait}
		var out strings.Builder
		return Run(context.Background(), plan, Options{
			Domains: []Domain{{Name: "fake", Drivers: []DriverSpec{{Names: []string{"host"},
				Open: func(context.Context, *OpenEnv) ([]interp.Driver, interp.Outputs, error) {
					return []interp.Driver{d}, nil, nil
				}}}}},
			Parallel: parallel,
			Journal:  JournalOptions{Path: t.TempDir() + "/journal"},
			Stdout:   &out, Stderr: &out,
		})
	}
	if err := run(0, 5*time.Second); err != nil {
		t.Fatalf("by default: %v (the two lanes must meet)", err)
	}
	if err := run(1, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no other lane applied concurrently") {
		t.Errorf("with Parallel 1: %v, want the two lanes not to meet", err)
	}
	if err := run(-1, time.Second); err == nil || !strings.Contains(err.Error(), "--parallel -1") {
		t.Errorf("with Parallel -1: %v, want it refused", err)
	}
}

// checkLaneDriver is a laneDriver whose actions only check (interp.Checker).
type checkLaneDriver struct{ laneDriver }

func (d *checkLaneDriver) Checks() bool { return true }

// Checks wait rather than configure: --parallel does not bound their lanes,
// so that many hosts' pings wait for their ports and leases at once.
func TestCheckLanesBeyondParallel(t *testing.T) {
	d := &checkLaneDriver{laneDriver{name: "check", meet: make(chan struct{}), wait: 5 * time.Second}}
	drivers := map[string]interp.Driver{"check": d}
	planned := planStep(t, drivers, hostAct("check", "h0", "a", interp.Command), hostAct("check", "h1", "b", interp.Command))
	if err := ApplyChanges(WithParallel(context.Background(), 1), drivers, planned, nil); err != nil {
		t.Fatalf("%v: with WithParallel(1), the two hosts' checks did not run at once", err)
	}
}
