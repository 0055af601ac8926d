package engine

import (
	"errors"
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

// foundAction is a deletion a driver found in the live targets, as a
// prune's or a destroy's are.
type foundAction struct {
	interp.ActionMeta
	uuid string
}

func (a *foundAction) Fields() []interp.Field { return []interp.Field{interp.F("_uuid", a.uuid)} }

// TestSavedPlanChecksWhatDriversFound: the deletions of a step the run
// adds (prune) are not saved as actions but found again by the apply,
// which is refused when one deletes another thing under the same ID.
func TestSavedPlanChecksWhatDriversFound(t *testing.T) {
	plan := &interp.Plan{Runbook: "lab.star"}
	if err := plan.Index(); err != nil {
		t.Fatal(err)
	}
	found := func(uuid string) []interp.StepChanges {
		a := &foundAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "logical_switch/ls1", Kind: "logical_switch", Name: "ls1", Driver: "nb"}}, uuid: uuid}
		return []interp.StepChanges{{Step: &interp.Step{Name: PruneStep}, Changes: []interp.Change{{Action: a, Op: interp.OpDelete}}}}
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := SavePlan(path, plan, found("uuid-a"), nil, SaveInfo{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := ReadSavedPlan(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Plan.Steps) != 0 {
		t.Errorf("the prune step is read back as a step of the runbook: %+v", saved.Plan.Steps)
	}
	if err := saved.Check(saved.Plan, found("uuid-a")); err != nil {
		t.Errorf("Check of the same deletion: %v", err)
	}
	err = saved.Check(saved.Plan, found("uuid-b"))
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), `logical_switch ls1: saved as delete of {"_uuid":"uuid-a"}, now of {"_uuid":"uuid-b"}`) {
		t.Errorf("Check of another row's deletion = %v, want ErrStale naming both", err)
	}
}

type unexportedKind struct {
	interp.ActionMeta
	Name string
	uuid string
}

func (*unexportedKind) Fields() []interp.Field { return nil }

// TestKindCodecRefuses: a kind with a field the codec cannot write back is
// refused when saved, and an unknown kind when read.
func TestKindCodecRefuses(t *testing.T) {
	c := KindCodec(&unexportedKind{})
	_, mine, err := c.Encode(&unexportedKind{uuid: "x"})
	if !mine || err == nil || !strings.Contains(err.Error(), "unexportedKind.uuid is not exported") {
		t.Errorf("Encode = %v, %v; want a refusal naming uuid", mine, err)
	}
	if _, mine, _ := c.Encode(act("host", "a")); mine {
		t.Errorf("Encode took an action of a kind it was not given")
	}
	if _, err := c.Decode([]byte(`{"kind":"Nope","fields":{}}`)); err == nil || !strings.Contains(err.Error(), `no action kind "Nope"; this domain saves unexportedKind`) {
		t.Errorf("Decode of an unknown kind = %v", err)
	}
}
