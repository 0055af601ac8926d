package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

type fakeAction struct {
	interp.ActionMeta
	needs *interp.Future // resolved by the fake driver's Apply
}

func (a *fakeAction) Fields() []interp.Field { return nil }

func act(driver, name string) *fakeAction {
	return &fakeAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "fake/" + name, Kind: "fake", Name: name, Driver: driver}}}
}

// fakeDriver records its calls in a shared log.
type fakeDriver struct {
	name     string
	log      *[]string
	refuse   error
	readable map[string]string    // outputs only ReadOutput knows
	actual   map[string]interp.Op // what Apply finds to do, by action name; else the planned op
}

func (d *fakeDriver) Name() string { return d.name }
func (d *fakeDriver) Close() error { return nil }

func (d *fakeDriver) Plan(_ context.Context, actions []interp.Action) ([]interp.Change, error) {
	var names []string
	out := make([]interp.Change, len(actions))
	for i, a := range actions {
		names = append(names, a.Meta().Name)
		out[i] = interp.Change{Action: a, Op: interp.OpCreate}
	}
	*d.log = append(*d.log, fmt.Sprintf("%s.Plan(%s)", d.name, strings.Join(names, ",")))
	return out, nil
}

func (d *fakeDriver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	var names []string
	out := interp.Outcomes{}
	for _, c := range changes {
		a := c.Action.(*fakeAction)
		name := a.M.Name
		if a.needs != nil {
			v, err := interp.Resolve(ctx, a.needs)
			if err != nil {
				return nil, err
			}
			name += "=" + v
		}
		names = append(names, name)
		op := c.Op
		if o, ok := d.actual[a.M.Name]; ok {
			op = o
		}
		out[a.M.ID] = interp.Outcome{Op: op, Outputs: map[string]string{"value": "v-" + a.M.Name}}
	}
	*d.log = append(*d.log, fmt.Sprintf("%s.Apply(%s)", d.name, strings.Join(names, ",")))
	return out, nil
}

func (d *fakeDriver) Preflight(_ context.Context, changes []interp.Change) error {
	*d.log = append(*d.log, fmt.Sprintf("%s.Preflight(%d)", d.name, len(changes)))
	return d.refuse
}

func (d *fakeDriver) ReadOutput(_ context.Context, id, attr string) (string, error) {
	if v, ok := d.readable[id+"."+attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no %s.%s", id, attr)
}

func TestPlanKeepsOrderAndAsksEachDriverOncePerStep(t *testing.T) {
	var log []string
	drivers := map[string]interp.Driver{"a": &fakeDriver{name: "a", log: &log}, "b": &fakeDriver{name: "b", log: &log}}
	steps := []*interp.Step{
		{Name: "one", Actions: []interp.Action{act("a", "a1"), act("b", "b1"), act("a", "a2")}},
		{Name: "two", Actions: []interp.Action{act("b", "b2")}},
	}
	sc, err := PlanChanges(context.Background(), drivers, steps)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range sc {
		for _, c := range st.Changes {
			got = append(got, st.Step.Name+"/"+c.Action.Meta().Name)
		}
	}
	if want := "one/a1 one/b1 one/a2 two/b2"; strings.Join(got, " ") != want {
		t.Errorf("changes = %v, want %s", got, want)
	}
	if want := "a.Plan(a1,a2) b.Plan(b1) b.Plan(b2)"; strings.Join(log, " ") != want {
		t.Errorf("calls = %v, want %s", log, want)
	}
}

func TestMissingDriverNamesTheAction(t *testing.T) {
	var log []string
	a := act("libvirt", "v0")
	a.M.Stack = []interp.Pos{{File: "lab.star", Line: 7, Col: 3}}
	steps := []*interp.Step{{Name: "first", Actions: []interp.Action{act("a", "a0")}}, {Name: "vms", Actions: []interp.Action{act("a", "a1"), a}}}
	_, err := PlanChanges(context.Background(), map[string]interp.Driver{"a": &fakeDriver{name: "a", log: &log}}, steps)
	var missing *MissingDriverError
	want := `no "libvirt" driver for action 2 of step "vms" (fake v0 at lab.star:7:3)`
	if !errors.As(err, &missing) || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if len(log) != 0 {
		t.Errorf("drivers were asked before the check: %v", log)
	}
}

func TestApplyStepByStepWithOutputs(t *testing.T) {
	var log []string
	a := &fakeDriver{name: "a", log: &log}
	b := &fakeDriver{name: "b", log: &log, readable: map[string]string{"fake/b1.late": "L"}}
	drivers := map[string]interp.Driver{"a": a, "b": b}
	a2 := act("a", "a2")
	a2.needs = interp.NewFuture("fake/b1", "value") // output of step one
	a3 := act("a", "a3")
	a3.needs = interp.NewFuture("fake/b1", "late") // read on demand
	steps := []*interp.Step{
		{Name: "one", Actions: []interp.Action{act("a", "a1"), act("b", "b1")}},
		{Name: "two", Actions: []interp.Action{a2, a3}},
	}
	ctx := context.Background()
	sc, err := PlanChanges(ctx, drivers, steps)
	if err != nil {
		t.Fatal(err)
	}
	log = nil
	var progress strings.Builder
	out := interp.Outputs{}
	if err := ApplyChanges(interp.WithOutputs(ctx, out), drivers, sc, &progress); err != nil {
		t.Fatal(err)
	}
	want := "a.Preflight(3) b.Preflight(1) a.Apply(a1) b.Apply(b1) a.Apply(a2=v-b1,a3=L)"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("calls = %s\nwant    %s", got, want)
	}
	if v, _ := out.Get("fake/a3", "value"); v != "v-a3" {
		t.Errorf("outputs = %v", out)
	}
	if p := progress.String(); !strings.Contains(p, "Step one: 2 created (") || !strings.Contains(p, "Step two: 2 created (") ||
		!strings.Contains(p, "Applied 2 step(s) in ") {
		t.Errorf("progress:\n%s", p)
	}
}

func TestPreflightRefusalAppliesNothing(t *testing.T) {
	var log []string
	d := &fakeDriver{name: "a", log: &log, refuse: errors.New("not yours")}
	drivers := map[string]interp.Driver{"a": d}
	sc, _ := PlanChanges(context.Background(), drivers, []*interp.Step{{Name: "one", Actions: []interp.Action{act("a", "a1")}}})
	log = nil
	if err := ApplyChanges(context.Background(), drivers, sc, nil); err == nil || err.Error() != "not yours" {
		t.Errorf("err = %v", err)
	}
	if strings.Join(log, " ") != "a.Preflight(1)" {
		t.Errorf("calls = %v", log)
	}
}

func TestResolveOutsideTheEngine(t *testing.T) {
	_, err := interp.Resolve(context.Background(), interp.NewFuture("host/h0", "system_id"))
	var u *interp.UnresolvedError
	if !errors.As(err, &u) || err.Error() != "system_id of host/h0 is known only after that action is applied, and it is not known yet" {
		t.Errorf("err = %v", err)
	}
}

// preparingDriver is a fakeDriver that says what it was asked to prepare.
type preparingDriver struct{ fakeDriver }

func (d *preparingDriver) Prepare(_ context.Context, changes []interp.Change) {
	var names []string
	for _, c := range changes {
		names = append(names, c.Action.Meta().Name)
	}
	*d.log = append(*d.log, fmt.Sprintf("%s.Prepare(%s)", d.name, strings.Join(names, ",")))
}

// TestPrepareFirst: only the first batch of each lane of the first step
// that applies anything is prepared, and only by drivers that can.
func TestPrepareFirst(t *testing.T) {
	var log []string
	ds := map[string]interp.Driver{
		"nb":   &preparingDriver{fakeDriver{name: "nb", log: &log}},
		"host": &fakeDriver{name: "host", log: &log},
	}
	hostAct := func(name string) *fakeAction {
		a := act("host", name)
		a.M.Host = "h1"
		return a
	}
	skipped := interp.StepChanges{Step: &interp.Step{Name: "done"}, Changes: []interp.Change{{Action: act("nb", "s0"), Op: interp.OpSkip}}}
	first := interp.StepChanges{Step: &interp.Step{Name: "one"}, Changes: []interp.Change{
		{Action: act("nb", "a"), Op: interp.OpCreate},
		{Action: hostAct("h"), Op: interp.OpCreate},
		{Action: act("nb", "b"), Op: interp.OpUnchanged},
	}}
	second := interp.StepChanges{Step: &interp.Step{Name: "two"}, Changes: []interp.Change{{Action: act("nb", "c"), Op: interp.OpCreate}}}
	prepareFirst(context.Background(), ds, []interp.StepChanges{skipped, first, second})
	if got := strings.Join(log, " "); got != "nb.Prepare(a,b)" {
		t.Errorf("calls: %s", got)
	}
}
