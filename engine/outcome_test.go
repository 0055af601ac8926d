package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// TestApplyReportsWhatWasDone: a driver finds at apply time that an earlier
// step changed what Plan saw. The progress line, the step summary, the
// closing line and the journal say what it did, not what the plan said.
func TestApplyReportsWhatWasDone(t *testing.T) {
	var log []string
	d := &fakeDriver{name: "host", log: &log, actual: map[string]interp.Op{"guarded": interp.OpRun, "route": interp.OpUnchanged}}
	drivers := map[string]interp.Driver{"host": d}
	guarded, route := hostAct("host", "h0", "guarded", interp.Command), hostAct("host", "h0", "route", interp.Resource)
	planned := []interp.StepChanges{{Step: &interp.Step{Name: "two"}, Changes: []interp.Change{
		{Action: guarded, Op: interp.OpUnchanged, Note: "does not run: marker exists"},
		{Action: route, Op: interp.OpCreate},
	}}}
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	if err := ApplyChanges(WithRecorder(context.Background(), j), drivers, planned, &progress); err != nil {
		t.Fatal(err)
	}
	p := progress.String()
	for _, want := range []string{"[h0] fake guarded: run (", "[h0] fake route: unchanged (", "Step two: 1 run, 1 unchanged (",
		": 1 run, 1 unchanged.\n"} {
		if !strings.Contains(p, want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
	done := j.Completed()
	if got := done["fake/guarded"].Op; got != interp.OpRun {
		t.Errorf("journal op of guarded = %q, want run", got)
	}
	if got := done["fake/route"].Op; got != interp.OpUnchanged {
		t.Errorf("journal op of route = %q, want unchanged", got)
	}
	if planned[0].Changes[0].Op != interp.OpUnchanged {
		t.Error("ApplyChanges changed the plan it was given")
	}
}

// silentDriver applies everything and reports no op: the engine must not
// pass the plan's op off as what was done.
type silentDriver struct{ laneDriver }

func (d *silentDriver) Apply(context.Context, []interp.Change) (interp.Outcomes, error) {
	return interp.Outcomes{}, nil
}

func TestApplyRefusesADriverThatDoesNotSayWhatItDid(t *testing.T) {
	drivers := map[string]interp.Driver{"host": &silentDriver{laneDriver{name: "host"}}}
	planned := planStep(t, drivers, hostAct("host", "h0", "a", interp.Resource))
	rec := &memRecorder{}
	err := ApplyChanges(WithRecorder(context.Background(), rec), drivers, planned, nil)
	if err == nil || !strings.Contains(err.Error(), `driver "host" did not report what it did to fake a`) {
		t.Errorf("err = %v", err)
	}
	if got := strings.Join(rec.events, ","); got != "done fake/a " {
		t.Errorf("journal %q: it was done, so it is recorded all the same", got)
	}
}
