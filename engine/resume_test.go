package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

type guardedAction struct {
	fakeAction
	guard string
}

func (g *guardedAction) Guard() string { return g.guard }

func TestResume(t *testing.T) {
	res := &fakeAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "fake/res", Name: "res"}}}
	cmd := &fakeAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "fake/cmd", Name: "cmd", Mode: interp.Command}}}
	grd := &guardedAction{fakeAction: fakeAction{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "fake/grd", Name: "grd", Mode: interp.Command}}}, guard: "runs unless /x exists"}
	step := &interp.Step{Name: "s"}
	for _, tc := range []struct {
		name     string
		action   interp.Action
		op       interp.Op
		status   ResumeStatus
		opts     ResumeOptions
		wantOp   interp.Op
		wantNote string
		wantErr  bool
	}{
		{"done and still holds", res, interp.OpUnchanged, ResumeSkip, ResumeOptions{Live: true}, interp.OpSkip, "done in run r1", false},
		{"done but no longer holds", res, interp.OpCreate, ResumeSkip, ResumeOptions{Live: true}, interp.OpCreate, "no longer holds: applying again", false},
		{"done, offline", res, interp.OpCreate, ResumeSkip, ResumeOptions{}, interp.OpSkip, "verified against live state when applied", false},
		{"edited since", res, interp.OpUpdate, ResumeChanged, ResumeOptions{Live: true}, interp.OpUpdate, "desired state changed", false},
		{"todo", res, interp.OpCreate, ResumeTodo, ResumeOptions{Live: true}, interp.OpCreate, "", false},
		{"unguarded command done", cmd, interp.OpRun, ResumeSkip, ResumeOptions{Live: true}, interp.OpSkip, "done in run r1", false},
		{"guarded command done", grd, interp.OpRun, ResumeSkip, ResumeOptions{Live: true}, interp.OpRun, "its guard decides again", false},
		{"unguarded command unfinished", cmd, interp.OpRun, ResumeUnfinished, ResumeOptions{Live: true}, "", "", true},
		{"unguarded command unfinished, rerun asked", cmd, interp.OpRun, ResumeUnfinished, ResumeOptions{Live: true, RerunUnfinished: true}, interp.OpRun, "running again as asked", false},
		{"guarded command unfinished", grd, interp.OpUnchanged, ResumeUnfinished, ResumeOptions{Live: true}, interp.OpUnchanged, "its guard decides", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			planned := []interp.StepChanges{{Step: step, Changes: []interp.Change{{Action: tc.action, Op: tc.op}}}}
			d := ResumeDecision{Action: tc.action, Status: tc.status}
			if tc.status != ResumeTodo {
				d.Reason = "done in run r1 at noon"
				if tc.status == ResumeChanged {
					d.Reason = "desired state changed since run r1"
				}
			}
			got, err := Resume(planned, []ResumeDecision{d}, tc.opts)
			var ue *UnfinishedError
			if tc.wantErr {
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--rerun-unfinished") {
					t.Fatalf("got %v, want *UnfinishedError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := got[0].Changes[0]
			if c.Op != tc.wantOp || !strings.Contains(c.Note, tc.wantNote) {
				t.Errorf("got op %s note %q, want op %s note containing %q", c.Op, c.Note, tc.wantOp, tc.wantNote)
			}
		})
	}
}

// resumeTestAction is an action with a field whose edit changes its hash.
func resumeTestAction() *fieldAction {
	return &fieldAction{
		ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "logical_switch_port/ls0-vm1", Kind: "logical_switch_port", Name: "ls0-vm1",
			Driver: "nb", Step: "topology", Stack: []interp.Pos{{File: "lab.star", Line: 10, Col: 1}}}},
		fields: []interp.Field{interp.F("switch", "ls0")},
	}
}

func TestResumeDecisions(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	same, edited, fresh := resumeTestAction(), resumeTestAction(), resumeTestAction()
	edited.M.ID, fresh.M.ID = "logical_switch_port/edited", "logical_switch_port/fresh"
	oldEdited := interp.ActionHash(edited)
	edited.fields[0].Value = "ls9"
	steps := []*interp.Step{{Name: "one", Actions: []interp.Action{same, edited}}, {Name: "two", Actions: []interp.Action{fresh}}}
	completed := map[string]ActionRecord{
		same.M.ID:          {Run: "R1", ID: same.M.ID, Hash: interp.ActionHash(same), Op: interp.OpCreate, End: at},
		edited.M.ID:        {Run: "R2", ID: edited.M.ID, Hash: oldEdited, Op: interp.OpCreate, End: at},
		"logical_switch/x": {Run: "R1", ID: "logical_switch/x", Hash: "00", Op: interp.OpCreate, End: at},
	}
	var got []string
	for _, d := range ResumeDecisions(steps, completed) {
		if d.Hash != interp.ActionHash(d.Action) {
			t.Errorf("%s: Hash = %s", d.Action.Meta().ID, d.Hash)
		}
		got = append(got, fmt.Sprintf("%s %s %s: %s", d.Action.Meta().ID, d.Status, d.Record.Run, d.Reason))
	}
	want := []string{
		"logical_switch_port/ls0-vm1 skip R1: done in run R1 at " + humanTime(at),
		"logical_switch_port/edited changed R2: desired state changed since run R2 (done at " + humanTime(at) + ")",
		"logical_switch_port/fresh todo : ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("decisions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
