package engine

import (
	"fmt"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// Resuming: what the journal says of each action of a new run, and how that
// turns the drivers' plan into the plan of a resumed run.

// ResumeStatus is what a resumed run does with one action.
type ResumeStatus int

const (
	// ResumeTodo: no earlier run completed the action; plan it as usual.
	ResumeTodo ResumeStatus = iota
	// ResumeSkip: completed earlier with the same desired state. The engine
	// skips it only if its driver re-verifies the live postcondition, and
	// applies it as usual otherwise.
	ResumeSkip
	// ResumeChanged: completed earlier with another desired state (the
	// runbook was edited); plan it as a change, never skip it.
	ResumeChanged
	// ResumeUnfinished: a command recorded as started and never as done; it
	// may have run. Its guard decides; without one, it must not run again
	// unasked.
	ResumeUnfinished
)

func (s ResumeStatus) String() string {
	switch s {
	case ResumeSkip:
		return "skip"
	case ResumeChanged:
		return "changed"
	case ResumeUnfinished:
		return "unfinished"
	}
	return "todo"
}

// ResumeDecision is the journal's verdict on one action of a resumed run.
type ResumeDecision struct {
	Action interp.Action
	Status ResumeStatus
	Hash   string       // the action's desired-state hash now
	Record ActionRecord // the journal's record; zero for ResumeTodo
	// Reason explains the status for the plan ("done in run R at T"); empty
	// for ResumeTodo.
	Reason string
}

// ResumeDecisions compares every action of steps, in order, with the
// records of completed actions (Journal.Completed).
func ResumeDecisions(steps []*interp.Step, completed map[string]ActionRecord) []ResumeDecision {
	var out []ResumeDecision
	for _, s := range steps {
		for _, a := range s.Actions {
			d := ResumeDecision{Action: a, Hash: interp.ActionHash(a)}
			if rec, ok := completed[a.Meta().ID]; ok {
				d.Record = rec
				if rec.Hash == d.Hash {
					d.Status, d.Reason = ResumeSkip, fmt.Sprintf("done in run %s at %s", rec.Run, humanTime(rec.End))
				} else {
					d.Status, d.Reason = ResumeChanged, fmt.Sprintf("desired state changed since run %s (done at %s)", rec.Run, humanTime(rec.End))
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// ResumeDecisions is the package function of that name applied to the
// journal's completed actions, with the actions recorded as started and
// never finished marked ResumeUnfinished.
func (j *Journal) ResumeDecisions(steps []*interp.Step) []ResumeDecision {
	ds := ResumeDecisions(steps, j.Completed())
	unfinished := j.Unfinished()
	for i, d := range ds {
		if rec, ok := unfinished[d.Action.Meta().ID]; ok {
			ds[i].Status, ds[i].Record = ResumeUnfinished, rec
			ds[i].Reason = fmt.Sprintf("started in run %s at %s and not recorded as finished: it may have run", rec.Run, humanTime(rec.Start))
		}
	}
	return ds
}

// humanTime formats a journal time for a message, in local time.
func humanTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }

// Runs, and how the last one ended: with the lock held, a run the journal
// shows as started and never ended is known to have died.

// RunInfo describes one run recorded in the journal.
type RunInfo struct {
	ID      string
	Runbook string
	Pid     int
	Host    string
	Start   time.Time
	End     time.Time // zero while running, or if the run died
	Status  string
	Error   string
	// Holds is what the run said the owner may hold: at its start, then
	// (replacing it) at its end.
	Holds []string
}

// Ended reports whether the run recorded its end.
func (r RunInfo) Ended() bool { return !r.End.IsZero() }

// Runs returns the runs recorded since the journal was last reset, oldest
// first.
func (j *Journal) Runs() []RunInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]RunInfo(nil), j.st.runs...)
}

// LastRun returns the most recent run other than the current one.
func (j *Journal) LastRun() (RunInfo, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.st.runs) - 1; i >= 0; i-- {
		if r := j.st.runs[i]; r.ID != j.run {
			return r, true
		}
	}
	return RunInfo{}, false
}

// InterruptedRunError says that the last run in a journal started and
// never ended, while no process holds the lock: it died while applying
// (killed, crashed, its host rebooted).
type InterruptedRunError struct {
	Journal string
	Run     RunInfo
}

func (e *InterruptedRunError) Error() string {
	return fmt.Sprintf("a previous run (pid %d on %s, started %s) died without finishing; its journal %s is intact; run with --resume to continue",
		e.Run.Pid, e.Run.Host, humanTime(e.Run.Start), e.Journal)
}

// CheckPreviousRun returns an *InterruptedRunError when the journal's last
// run did not end. It needs the lock held: only then is a run that did not
// end known to be dead rather than running. A fresh (not resumed) run must
// stop on this error: it would reset the journal and lose what the dead run
// did, and might run again a command that run had run.
func CheckPreviousRun(j *Journal, l *Lock) error {
	if l == nil || l.f == nil {
		return fmt.Errorf("journal %s: checking the previous run needs its lock held", j.Path())
	}
	last, ok := j.LastRun()
	if !ok || last.Ended() {
		return nil
	}
	if prev, ok := l.Previous(); ok && last.Pid == 0 {
		last.Pid, last.Host = prev.Pid, prev.Host
	}
	return &InterruptedRunError{Journal: j.Path(), Run: last}
}

// ResumeOptions say how Resume treats what it cannot verify.
type ResumeOptions struct {
	// Live is true when the changes come from the drivers (they compared
	// against live state); false for an offline plan, where a skip is shown
	// as expected but cannot be re-verified.
	Live bool
	// RerunUnfinished allows an unguarded command that an interrupted run
	// started, and may have finished, to run again.
	RerunUnfinished bool
}

// UnfinishedError lists unguarded commands an interrupted run started and
// never recorded as done: ovnrun cannot tell whether they ran, so it will not
// run them again unasked.
type UnfinishedError struct{ Actions []ResumeDecision }

func (e *UnfinishedError) Error() string {
	msg := "these commands were started by an interrupted run and may have run; they have no guard (creates= or unless=) to tell:"
	for _, d := range e.Actions {
		m := d.Action.Meta()
		msg += fmt.Sprintf("\n  %s %s (%s): %s", m.Kind, m.Name, m.Pos(), d.Reason)
	}
	return msg + "\ncheck them on their hosts, then resume with --rerun-unfinished to run them again, or add a guard to the runbook"
}

// Resume turns the plan of a run into the plan of a resumed run, action by
// action, following the journal's decisions:
//   - done before with the same desired state: skipped, if its driver finds
//     it still holds (the change is "unchanged"); a command without a guard
//     is skipped on the journal's word; otherwise planned as usual, noted;
//   - done before with another desired state: planned as usual (a change,
//     never a skip), noted;
//   - started and maybe not finished (a command): its guard decides; without
//     a guard, refused unless opts.RerunUnfinished.
func Resume(planned []interp.StepChanges, decisions []ResumeDecision, opts ResumeOptions) ([]interp.StepChanges, error) {
	byID := make(map[string]ResumeDecision, len(decisions))
	for _, d := range decisions {
		byID[d.Action.Meta().ID] = d
	}
	var unfinished []ResumeDecision
	out := make([]interp.StepChanges, len(planned))
	for i, st := range planned {
		cs := make([]interp.Change, len(st.Changes))
		for j, c := range st.Changes {
			d, ok := byID[c.Action.Meta().ID]
			if ok {
				c = resumeChange(c, d, opts)
				if d.Status == ResumeUnfinished && !guarded(c.Action) && !opts.RerunUnfinished {
					unfinished = append(unfinished, d)
				}
			}
			cs[j] = c
		}
		out[i] = interp.StepChanges{Step: st.Step, Changes: cs}
	}
	if len(unfinished) > 0 {
		return nil, &UnfinishedError{unfinished}
	}
	return out, nil
}

func resumeChange(c interp.Change, d ResumeDecision, opts ResumeOptions) interp.Change {
	note := func(extra string) interp.Change {
		if c.Note != "" {
			extra = c.Note + "; " + extra
		}
		c.Note = extra
		return c
	}
	command := c.Action.Meta().Mode == interp.Command
	switch d.Status {
	case ResumeSkip:
		switch {
		case command && !guarded(c.Action), c.Op == interp.OpUnchanged:
			c.Op = interp.OpSkip
			return note(d.Reason)
		case command:
			return note(d.Reason + "; its guard decides again")
		case !opts.Live:
			c.Op = interp.OpSkip
			return note(d.Reason + " (verified against live state when applied)")
		}
		return note(d.Reason + ", but it no longer holds: applying again")
	case ResumeChanged:
		return note(d.Reason)
	case ResumeUnfinished:
		if guarded(c.Action) {
			return note(d.Reason + "; its guard decides")
		}
		return note(d.Reason + "; running again as asked")
	}
	return c
}

func guarded(a interp.Action) bool {
	g, ok := a.(interp.Guarded)
	return ok && g.Guard() != ""
}
