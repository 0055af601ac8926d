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
	lab   labFlags
	virt  virtFlags
	// text is how the text plan is printed: coloured on a terminal.
	text interp.TextOptions
}

func addLiveFlags(fs *pflag.FlagSet, f *liveFlags) {
	fs.StringVar(&f.nb, "nb", "", "the NB endpoint `ADDR[,ADDR]` (several: a clustered NB), overriding the runbook's ovn_nb()")
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	fs.BoolVar(&f.adopt, "adopt", false, "take over NB rows with declared names that this runbook did not create")
	fs.BoolVar(&f.destroy, "destroy", false, "delete every NB row, VM and VM NIC this runbook created, and nothing else (with --lab, then reset the lab's hosts)")
	fs.StringVar(&f.wait, "wait", "none", "after each NB transaction wait for `sb|hv|none`: ovn-northd, every chassis, or nothing")
	addJournalFlags(fs, &f.journalFlags)
	addHostFlags(fs, &f.hosts)
	addLabFlags(fs, &f.lab)
	addVirtFlags(fs, &f.virt)
}

// runLive plans steps against the live NB, prints the plan in output
// format (text or json) and, unless dryRun, applies it. With --destroy the
// plan is the deletion of every row the runbook created (and, in a lab, of
// its VMs, after which the lab's hosts are reset).
func runLive(ctx context.Context, lf *liveFlags, dryRun bool, plan *interp.Plan, steps []*interp.Step, output string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		if ctx.Err() != nil {
			// Ctrl-C or SIGTERM: the error is the context's, say why.
			format = "interrupted: " + format
		}
		fmt.Fprintf(stderr, "ovnrun: "+format+"\n", args...)
		return code
	}
	switch lf.wait {
	case "", "none", "sb", "hv":
	default:
		return usageError(stderr, "ovnrun", fmt.Errorf("--wait %q: want sb, hv or none", lf.wait))
	}
	needed, err := neededDrivers(lf, steps)
	if err != nil {
		return usageError(stderr, "ovnrun", err)
	}
	drivers := map[string]interp.Driver{}
	defer func() {
		for _, d := range drivers {
			d.Close()
		}
	}()
	known, err := openDrivers(ctx, lf, plan, steps, needed, drivers, stderr)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	ctx = interp.WithOutputs(ctx, known)

	var planned []interp.StepChanges
	if lf.destroy {
		planned, err = planDestroy(ctx, drivers, plan)
	} else {
		planned, err = interp.PlanChanges(ctx, drivers, steps)
	}
	if err != nil {
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
		err = interp.WriteTextWith(stdout, plan, planned, lf.text)
	}
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	if lf.destroy {
		writeDestroyHosts(progress, lf.lab.lab)
	}
	if dryRun {
		return exitOK
	}
	if s := interp.Summarize(planned); s.Add+s.Change+s.Destroy+s.Run == 0 && !lf.destroy && !lf.resume {
		// Nothing to do: the journal already records this state, and
		// rewriting it (one record per action) would be most of the time
		// a no-op run takes. Unless the last run died: then the run goes
		// on, and is refused, as the journal must be resumed first.
		if quiet, err := lf.lastRunEnded(plan); err != nil {
			return fail(exitFailure, "%v", err)
		} else if quiet {
			fmt.Fprintln(progress, "\nNothing to apply.")
			return exitOK
		}
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
	if err == nil && lf.destroy && lf.lab.lab != nil {
		err = resetLabHosts(lf.lab.lab, progress)
	}
	if endErr := endRun(ctx, journal, err); endErr != nil {
		return fail(exitFailure, "%v", endErr)
	}
	if err != nil {
		return fail(exitFailure, "%v\nthe journal %s records what was done: run again with --resume to continue", err, journal.Path())
	}
	return exitOK
}
