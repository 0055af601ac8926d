package interp

import (
	"errors"
	"strings"
	"testing"
)

type guardedAction struct {
	fakeAction
	guard string
}

func (g *guardedAction) Guard() string { return g.guard }

func TestResume(t *testing.T) {
	res := &fakeAction{ActionMeta: ActionMeta{M: Meta{ID: "fake/res", Name: "res"}}}
	cmd := &fakeAction{ActionMeta: ActionMeta{M: Meta{ID: "fake/cmd", Name: "cmd", Mode: Command}}}
	grd := &guardedAction{fakeAction: fakeAction{ActionMeta: ActionMeta{M: Meta{ID: "fake/grd", Name: "grd", Mode: Command}}}, guard: "runs unless /x exists"}
	step := &Step{Name: "s"}
	for _, tc := range []struct {
		name     string
		action   Action
		op       Op
		status   ResumeStatus
		opts     ResumeOptions
		wantOp   Op
		wantNote string
		wantErr  bool
	}{
		{"done and still holds", res, OpUnchanged, ResumeSkip, ResumeOptions{Live: true}, OpSkip, "done in run r1", false},
		{"done but no longer holds", res, OpCreate, ResumeSkip, ResumeOptions{Live: true}, OpCreate, "no longer holds: applying again", false},
		{"done, offline", res, OpCreate, ResumeSkip, ResumeOptions{}, OpSkip, "verified against live state when applied", false},
		{"edited since", res, OpUpdate, ResumeChanged, ResumeOptions{Live: true}, OpUpdate, "desired state changed", false},
		{"todo", res, OpCreate, ResumeTodo, ResumeOptions{Live: true}, OpCreate, "", false},
		{"unguarded command done", cmd, OpRun, ResumeSkip, ResumeOptions{Live: true}, OpSkip, "done in run r1", false},
		{"guarded command done", grd, OpRun, ResumeSkip, ResumeOptions{Live: true}, OpRun, "its guard decides again", false},
		{"unguarded command unfinished", cmd, OpRun, ResumeUnfinished, ResumeOptions{Live: true}, "", "", true},
		{"unguarded command unfinished, rerun asked", cmd, OpRun, ResumeUnfinished, ResumeOptions{Live: true, RerunUnfinished: true}, OpRun, "running again as asked", false},
		{"guarded command unfinished", grd, OpUnchanged, ResumeUnfinished, ResumeOptions{Live: true}, OpUnchanged, "its guard decides", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			planned := []StepChanges{{Step: step, Changes: []Change{{Action: tc.action, Op: tc.op}}}}
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
