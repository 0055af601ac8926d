package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// TestSavePlanRefusesWhatItCannotRead: a plan with an action no domain
// saves is refused, naming the action, and no file is written.
func TestSavePlanRefusesWhatItCannotRead(t *testing.T) {
	step := &interp.Step{Name: "s", Actions: []interp.Action{act("host", "h0-cmd")}}
	plan := &interp.Plan{Runbook: "lab.star", Steps: []*interp.Step{step}}
	if err := plan.Index(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	changes := []interp.StepChanges{{Step: step, Changes: []interp.Change{{Action: step.Actions[0], Op: interp.OpRun}}}}
	err := SavePlan(path, plan, changes, nil, SaveInfo{})
	if err == nil || !strings.Contains(err.Error(), "fake h0-cmd (driver host) cannot be saved") {
		t.Fatalf("SavePlan = %v, want a refusal naming fake h0-cmd", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused plan was written to %s (%v)", path, err)
	}
}
