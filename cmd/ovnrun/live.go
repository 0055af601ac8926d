package main

import (
	"context"
	"fmt"
	"io"
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
	hosts hostFlags
}

func addLiveFlags(fs *pflag.FlagSet, f *liveFlags) {
	fs.StringVar(&f.nb, "nb", "", "NB endpoint(s), comma-separated for a clustered NB; overrides the runbook's ovn_nb()")
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	fs.BoolVar(&f.adopt, "adopt", false, "take over NB rows with declared names that this runbook did not create")
	fs.BoolVar(&f.destroy, "destroy", false, "delete every NB row this runbook created, and nothing else")
	fs.StringVar(&f.wait, "wait", "none", "after each NB transaction wait for ovn-northd (sb) or every chassis (hv)")
	addJournalFlags(fs, &f.journalFlags)
	addHostFlags(fs, &f.hosts)
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
	// Refuse before dialing anything: a run that cannot finish must not
	// start.
	needed := map[string]bool{"nb": lf.destroy}
	if !lf.destroy {
		for _, s := range steps {
			for i, a := range s.Actions {
				name := a.Meta().Driver
				if !builtDrivers[name] {
					err := &interp.MissingDriverError{Driver: name, Step: s.Name, Index: i + 1, Action: a}
					return fail(exitUsage, "%v\nthis build has no driver for %s actions yet: select other steps with --only", err, name)
				}
				needed[name] = true
			}
		}
	}
	drivers := map[string]interp.Driver{}
	defer func() {
		for _, d := range drivers {
			d.Close()
		}
	}()
	// Outputs known before planning (chassis names hosts already report)
	// let the plan show real values instead of "(known after apply)".
	known := interp.Outputs{}
	var nb *ovn.NBDriver
	if needed["nb"] {
		var err error
		if nb, err = connectNB(ctx, lf, plan, stderr); err != nil {
			return fail(exitFailure, "%v", err)
		}
		drivers[nb.Name()] = nb
	}
	if needed["host"] || needed["ovs"] {
		ds, k, err := openHostDrivers(ctx, &lf.hosts, plan, stderr)
		if err != nil {
			return fail(exitFailure, "%v", err)
		}
		for _, d := range ds {
			drivers[d.Name()] = d
		}
		known.Merge(k)
	}
	ctx = interp.WithOutputs(ctx, known)

	var planned []interp.StepChanges
	var err error
	if lf.destroy {
		var actions []interp.Action
		for _, s := range plan.Steps {
			actions = append(actions, s.Actions...)
		}
		cs, err := nb.PlanDestroy(ctx, actions)
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
	if dryRun {
		return exitOK
	}
	fmt.Fprintln(progress)
	journal, release, err := lf.openJournal(plan, stderr)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	defer release()
	outputs := journal.Outputs()
	outputs.Merge(known)
	ctx = interp.WithRecorder(interp.WithOutputs(ctx, outputs), journal)
	err = interp.ApplyChanges(ctx, drivers, planned, progress)
	if endErr := endRun(ctx, journal, err); endErr != nil {
		return fail(exitFailure, "%v", endErr)
	}
	if err != nil {
		return fail(exitFailure, "%v\nthe journal %s records what was done: run again with --resume to continue", err, journal.Path())
	}
	return exitOK
}

// builtDrivers are the drivers of this build, by Meta.Driver name.
var builtDrivers = map[string]bool{"nb": true, "host": true, "ovs": true}

// connectNB connects the NB driver to --nb, else to the runbook's ovn_nb().
func connectNB(ctx context.Context, lf *liveFlags, plan *interp.Plan, stderr io.Writer) (*ovn.NBDriver, error) {
	endpoints := ovn.SplitEndpoints(lf.nb)
	if len(endpoints) == 0 {
		if v, ok := plan.Setting("nb"); ok {
			s, _ := v.(string)
			endpoints = ovn.SplitEndpoints(s)
		}
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("no Northbound database: pass --nb ADDR or call ovn_nb() in the runbook")
	}
	return ovn.ConnectNB(ctx, ovn.NBConfig{Endpoints: endpoints, Owner: ovn.Owner(plan.Runbook),
		ConnectTimeout: lf.timeout, Adopt: lf.adopt, Wait: lf.wait, Log: stderr})
}
