package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/interp"
)

// liveFlags are the flags of runs that contact the lab: apply, live
// dry-run, destroy.
type liveFlags struct {
	nb             string
	timeout        time.Duration
	adopt, destroy bool
	wait           string
	journalFlags
}

func addLiveFlags(fs *pflag.FlagSet, f *liveFlags) {
	fs.StringVar(&f.nb, "nb", "", "NB endpoint(s), comma-separated for a clustered NB; overrides the runbook's ovn_nb()")
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	fs.BoolVar(&f.adopt, "adopt", false, "take over NB rows with declared names that this runbook did not create")
	fs.BoolVar(&f.destroy, "destroy", false, "delete every NB row this runbook created, and nothing else")
	fs.StringVar(&f.wait, "wait", "none", "after each NB transaction wait for ovn-northd (sb) or every chassis (hv)")
	addJournalFlags(fs, &f.journalFlags)
}

// runLive plans steps against the live NB, prints the plan in output
// format (text or json) and, unless dryRun, applies it. With --destroy the
// plan is the deletion of every row the runbook created.
func runLive(ctx context.Context, lf *liveFlags, dryRun bool, plan *interp.Plan, steps []*interp.Step, output string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "ovnrun: "+format+"\n", args...)
		return code
	}
	switch lf.wait {
	case "", "none", "sb", "hv":
	default:
		return fail(exitUsage, "--wait %q: want sb, hv or none", lf.wait)
	}
	if !lf.destroy {
		// Refuse before dialing anything: a run that cannot finish must
		// not start.
		if err := onlyNB(steps); err != nil {
			return fail(exitUsage, "%v\nthis build applies OVN Northbound actions only: select the NB steps with --only (for the seed runbook: --only topology)", err)
		}
	}
	endpoints := ovn.SplitEndpoints(lf.nb)
	if len(endpoints) == 0 {
		if v, ok := plan.Setting("nb"); ok {
			s, _ := v.(string)
			endpoints = ovn.SplitEndpoints(s)
		}
	}
	if len(endpoints) == 0 {
		return fail(exitUsage, "no Northbound database: pass --nb ADDR or call ovn_nb() in the runbook")
	}
	xt("pre-connect")
	d, err := ovn.ConnectNB(ctx, ovn.NBConfig{Endpoints: endpoints, Owner: ovn.Owner(plan.Runbook),
		ConnectTimeout: lf.timeout, Adopt: lf.adopt, Wait: lf.wait, Log: stderr})
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	xt("connected")
	defer func() { d.Close(); xt("closed") }()
	drivers := map[string]interp.Driver{d.Name(): d}

	var planned []interp.StepChanges
	if lf.destroy {
		var actions []interp.Action
		for _, s := range plan.Steps {
			actions = append(actions, s.Actions...)
		}
		cs, err := d.PlanDestroy(ctx, actions)
		if err != nil {
			return fail(exitFailure, "%v", err)
		}
		step := &interp.Step{Name: "destroy", Pos: interp.Pos{File: plan.Runbook, Line: 1}}
		planned = []interp.StepChanges{{Step: step, Changes: cs}}
	} else if planned, err = interp.PlanChanges(ctx, drivers, steps); err != nil {
		return fail(exitFailure, "%v", err)
	}
	if lf.resume {
		// The plan of a resumed run shows what it skips; it is read without
		// the lock, which the apply below takes before changing anything.
		j, err := interp.ReadJournal(lf.journalPath(plan))
		if err == nil {
			planned, err = lf.resumePlan(j, steps, planned, true)
		}
		if err != nil {
			return fail(exitFailure, "%v", err)
		}
	}

	xt("planned")
	progress := stdout
	if output == "json" {
		err = interp.WriteJSON(stdout, plan, planned)
		progress = stderr // keep stdout one JSON document
	} else {
		err = interp.WriteText(stdout, plan, planned)
	}
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	xt("written")
	if dryRun {
		return exitOK
	}
	fmt.Fprintln(progress)
	journal, release, err := lf.openJournal(plan, stderr)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	defer release()
	ctx = interp.WithRecorder(interp.WithOutputs(ctx, journal.Outputs()), journal)
	err = interp.ApplyChanges(ctx, drivers, planned, progress)
	if endErr := endRun(ctx, journal, err); endErr != nil {
		return fail(exitFailure, "%v", endErr)
	}
	if err != nil {
		return fail(exitFailure, "%v\nthe journal %s records what was done: run again with --resume to continue", err, journal.Path())
	}
	xt("applied")
	return exitOK
}

var xstart = time.Now()

func xt(what string) {
	if os.Getenv("XTIME") != "" {
		fmt.Fprintf(os.Stderr, "XT %-12s %v\n", what, time.Since(xstart).Round(time.Millisecond))
	}
}

// onlyNB returns a *interp.MissingDriverError for the first action of steps
// that is not an NB action.
func onlyNB(steps []*interp.Step) error {
	for _, s := range steps {
		for i, a := range s.Actions {
			if d := a.Meta().Driver; d != "nb" {
				return &interp.MissingDriverError{Driver: d, Step: s.Name, Index: i + 1, Action: a}
			}
		}
	}
	return nil
}
