package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/interp"
)

// journalFlags say where the journal is and how a run uses it.
type journalFlags struct {
	journal         string
	resume          bool
	rerunUnfinished bool
	// partial is set when --only or --from select steps: such a run must not
	// reset the journal, which remembers the other steps.
	partial bool
}

func addJournalFlags(fs *pflag.FlagSet, f *journalFlags) {
	fs.StringVar(&f.journal, "journal", "", "the journal `FILE` (default: .RUNBOOK.ovnrun-journal beside the runbook)")
	fs.BoolVar(&f.resume, "resume", false, "continue a failed or interrupted run: skip what it finished and still holds")
	fs.BoolVar(&f.rerunUnfinished, "rerun-unfinished", false, "with --resume, run again unguarded commands an interrupted run may have run")
}

func (f *journalFlags) journalPath(plan *interp.Plan) string {
	if f.journal != "" {
		return f.journal
	}
	return interp.DefaultJournalPath(plan.Runbook)
}

// openJournal takes the run lock and opens the journal for a run that
// changes the lab. A run that is not resumed refuses to start over a run that
// died (it would forget what that run did), and a full run starts the
// journal afresh. release ends the run's hold on both.
func (f *journalFlags) openJournal(plan *interp.Plan, stderr io.Writer) (*interp.Journal, func(), error) {
	path := f.journalPath(plan)
	lock, err := interp.AcquireLock(interp.LockPath(path))
	if err != nil {
		return nil, nil, err
	}
	j, err := interp.OpenJournal(path)
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
	if !f.resume {
		if err := interp.CheckPreviousRun(j, lock); err != nil {
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
	if _, err := j.Begin(plan.Runbook); err != nil {
		release()
		return nil, nil, err
	}
	return j, release, nil
}

// lastRunEnded reports, under the run lock, whether no earlier run holds it
// or died holding it.
func (f *journalFlags) lastRunEnded(plan *interp.Plan) (bool, error) {
	lock, err := interp.AcquireLock(interp.LockPath(f.journalPath(plan)))
	if err != nil {
		return false, err
	}
	defer lock.Release()
	_, died := lock.Previous()
	return !died, nil
}

// resumePlan turns planned into the plan of a resumed run.
func (f *journalFlags) resumePlan(j *interp.Journal, steps []*interp.Step, planned []interp.StepChanges, live bool) ([]interp.StepChanges, error) {
	return interp.Resume(planned, j.ResumeDecisions(steps), interp.ResumeOptions{Live: live, RerunUnfinished: f.rerunUnfinished})
}

// endRun records how the run ended.
func endRun(ctx context.Context, j *interp.Journal, err error) error {
	status := interp.RunOK
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil):
		status = interp.RunInterrupted
	case err != nil:
		status = interp.RunFailed
	}
	return j.End(status, err)
}
