package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/ovnrun/ovnrun/interp"
)

// The journal policy of a run: where the journal is, when it starts afresh,
// and what a resumed run skips.

// JournalOptions say where the journal is and how a run uses it.
type JournalOptions struct {
	Path            string // default: .RUNBOOK.ovnrun-journal beside the runbook
	Resume          bool   // skip what an earlier run finished and still holds
	RerunUnfinished bool   // with Resume, run again commands a killed run may have run
	// partial is set when steps are selected: such a run must not reset
	// the journal, which remembers the other steps.
	partial bool
}

func (f *JournalOptions) path(plan *interp.Plan) string {
	if f.Path != "" {
		return f.Path
	}
	return DefaultJournalPath(plan.Runbook)
}

// open takes the run lock and opens the journal for a run that changes the
// lab. A run that is not resumed refuses to start over a run that died (it
// would forget what that run did), and a full run starts the journal afresh.
// release ends the run's hold on both. holds are what the run's start
// records that the owner may hold (holds.go).
func (f *JournalOptions) open(plan *interp.Plan, holds []string, stderr io.Writer) (*Journal, func(), error) {
	path := f.path(plan)
	lock, err := AcquireLock(LockPath(path))
	if err != nil {
		return nil, nil, err
	}
	j, err := OpenJournal(path)
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	release := func() {
		j.Close()
		lock.Release()
	}
	if n := j.TornLine(); n > 0 {
		fmt.Fprintf(stderr, "ovnrun: journal %s: line %d was cut short by a crash and is ignored\n", path, n)
	}
	if !f.Resume {
		if err := CheckPreviousRun(j, lock); err != nil {
			release()
			return nil, nil, err
		}
		if !f.partial {
			if err := j.Reset(); err != nil {
				release()
				return nil, nil, err
			}
		}
	}
	j.SetHolds(holds)
	if _, err := j.Begin(plan.Runbook); err != nil {
		release()
		return nil, nil, err
	}
	return j, release, nil
}

// lastRunEnded reports, under the run lock, whether no earlier run holds it
// or died holding it.
func (f *JournalOptions) lastRunEnded(plan *interp.Plan) (bool, error) {
	lock, err := AcquireLock(LockPath(f.path(plan)))
	if err != nil {
		return false, err
	}
	defer lock.Release()
	_, died := lock.Previous()
	return !died, nil
}

// resumePlan turns planned into the plan of a resumed run.
func (f *JournalOptions) resumePlan(j *Journal, steps []*interp.Step, planned []interp.StepChanges, live bool) ([]interp.StepChanges, error) {
	return Resume(planned, j.ResumeDecisions(steps), ResumeOptions{Live: live, RerunUnfinished: f.RerunUnfinished})
}

// endRun records how the run ended.
func endRun(ctx context.Context, j *Journal, err error) error {
	status := RunOK
	switch {
	case err != nil && Interrupted(ctx, err):
		status = RunInterrupted
	case err != nil:
		status = RunFailed
	}
	return j.End(status, err)
}
