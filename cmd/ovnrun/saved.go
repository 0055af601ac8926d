package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// Saved plans (docs/saved-plans.md): --dry-run --out FILE writes one, and
// ovnrun apply FILE.json applies it.

// isSavedPlan reports whether the argument of apply names a saved plan,
// not a runbook.
func isSavedPlan(path string) bool { return strings.HasSuffix(path, ".json") }

// checkOut refuses --out where a saved plan would not be what an apply of
// it can check.
func (f *planFlags) checkOut() error {
	switch {
	case f.saveTo == "":
		return nil
	case !f.dryRun:
		return errors.New("--out saves the plan of a --dry-run: add --dry-run")
	case f.offline:
		return errors.New("--out saves a plan made against the live targets: drop --offline")
	case f.live.lab.on:
		return errors.New("--out and --lab cannot be combined: a lab run is not confirmed, apply it directly")
	case f.live.resume:
		return errors.New("--out and --resume cannot be combined")
	}
	return nil
}

// checkSavedApply refuses, for ovnrun apply PLAN.json, the flags that say
// what to plan: the saved plan says it.
func checkSavedApply(cmd *cobra.Command) error {
	for _, name := range []string{"var", "lib", "only", "from", "nb", "adopt", "destroy", "offline", "lab", "lab-vms", "resume", "out", "owner", "no-prune", "max-steps", "max-memory"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s cannot be given with a saved plan: the plan records what to apply and where", name)
		}
	}
	return nil
}

// savePlanner makes the run of plan under f save its plan to --out once
// planned against the live targets.
func savePlanner(f *planFlags, plan *interp.Plan, o *engine.Options) {
	nb := f.live.nb
	if nb == "" {
		if v, ok := plan.Setting("nb"); ok {
			nb, _ = v.(string)
		}
	}
	info := engine.SaveInfo{NB: nb, Adopt: f.live.adopt, Only: f.only, From: f.from, Destroy: f.live.destroy,
		Owner: f.live.owner, NoPrune: f.live.noPrune}
	domains := o.Domains
	o.Planned = func(plan *interp.Plan, changes []interp.StepChanges) error {
		return engine.SavePlan(f.saveTo, plan, changes, domains, info)
	}
}

// applySavedPlan applies the saved plan at path: it reads it back, plans
// its actions against the live targets and applies them only when that
// finds the changes saved. It is not asked for: it was saved to be applied.
func applySavedPlan(f *planFlags, path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return exitFailure
	}
	saved, err := engine.ReadSavedPlan(path, data, domains(nil))
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun apply: %v\n", err)
		return exitFailure
	}
	f.live.nb, f.live.adopt, f.only, f.from = saved.NB, saved.Adopt, saved.Only, saved.From
	f.live.destroy, f.live.owner, f.live.noPrune = saved.Destroy, saved.Owner, saved.NoPrune
	f.yes = true
	ctx, stop := interruptContext(stderr)
	defer stop()
	f.live.text.Colour = f.output == "text" && f.out.colour(stdout)
	stdout, stderr = f.out.quietOutput(f.output == "json", stdout, stderr)
	opts, err := runOptions(f, stdout, stderr)
	if err != nil {
		return usageError(stderr, "ovnrun apply", err)
	}
	opts.Planned = func(plan *interp.Plan, changes []interp.StepChanges) error {
		if err := saved.Check(plan, changes); err != nil {
			return fmt.Errorf("apply %s: %w; nothing was changed", path, err)
		}
		return nil
	}
	return runEngine(ctx, saved.Plan, opts, stderr)
}

// runEngine runs plan with opts and chooses the exit code.
func runEngine(ctx context.Context, plan *interp.Plan, opts engine.Options, stderr io.Writer) int {
	err := engine.Run(ctx, plan, opts)
	var optErr *engine.OptionError
	var notConfirmed *notConfirmedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &optErr):
		return usageError(stderr, "ovnrun", err)
	case errors.As(err, &notConfirmed):
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return notConfirmed.code
	case ctx.Err() != nil:
		// Ctrl-C or SIGTERM: the error is the context's, say why.
		fmt.Fprintf(stderr, "ovnrun: interrupted: %v\n", err)
	default:
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
	}
	return exitFailure
}
