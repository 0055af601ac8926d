package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

type planFlags struct {
	live            liveFlags
	dryRun, offline bool
	output          string
	vars            []string
	only            []string
	from            string
	libs            []string
	limits          evalLimits
}

func parsePlanFlags(args []string, stderr io.Writer) (*planFlags, string, error) {
	var f planFlags
	fs := pflag.NewFlagSet("ovnrun", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan, change nothing")
	fs.BoolVar(&f.offline, "offline", false, "contact nothing at all")
	fs.StringVar(&f.output, "output", "text", "plan format: text or json")
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "runbook variable NAME=VALUE")
	fs.StringSliceVar(&f.only, "only", nil, "run only these steps")
	fs.StringVar(&f.from, "from", "", "run from this step on")
	fs.StringArrayVar(&f.libs, "lib", nil, "library search directory")
	addEvalLimitFlags(fs, &f.limits)
	addLiveFlags(fs, &f.live)
	if err := parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	f.live.lab.vmsSet = fs.Changed("lab-vms")
	if fs.NArg() > 0 {
		if err := checkRunbookArg(fs.Arg(0)); err != nil {
			return nil, "", err
		}
	}
	switch fs.NArg() {
	case 0:
		return nil, "", fmt.Errorf("no runbook given: ovnrun [flags] RUNBOOK.star")
	case 1:
	default:
		return nil, "", fmt.Errorf("want exactly one runbook, got %d arguments", fs.NArg())
	}
	if f.output != "text" && f.output != "json" {
		return nil, "", fmt.Errorf("--output %q: want text or json", f.output)
	}
	if len(f.only) > 0 && f.from != "" {
		return nil, "", fmt.Errorf("--only and --from cannot be combined")
	}
	if f.offline && !f.dryRun {
		return nil, "", fmt.Errorf("--offline only plans: add --dry-run")
	}
	if err := checkLabFlags(&f); err != nil {
		return nil, "", err
	}
	return &f, fs.Arg(0), nil
}

// parseVars turns -D NAME=VALUE settings into a map.
func parseVars(settings []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, s := range settings {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("-D %q: want NAME=VALUE", s)
		}
		if _, dup := vars[name]; dup {
			return nil, fmt.Errorf("-D %s is given twice", name)
		}
		vars[name] = value
	}
	return vars, nil
}

func planCommand(args []string, stdout, stderr io.Writer) int {
	f, path, err := parsePlanFlags(args, stderr)
	if err != nil {
		return usageError(stderr, "ovnrun", err)
	}
	vars, err := parseVars(f.vars)
	if err != nil {
		return usageError(stderr, "ovnrun", err)
	}
	// One context for evaluation, planning and apply: Ctrl-C stops any of
	// them; an apply records the run as interrupted so --resume continues.
	ctx, stop := interruptContext(stderr)
	defer stop()
	plan, code := evaluateRunbook(ctx, path, vars, f.libs, f.limits, stderr)
	if plan == nil {
		return code
	}
	if f.live.lab.on {
		if code := enterLab(f, plan, args, stdout, stderr); code >= 0 {
			return code
		}
	}
	return runPlan(ctx, f, plan, stdout, stderr)
}

// runPlan runs plan as the flags say and chooses the exit code.
func runPlan(ctx context.Context, f *planFlags, plan *interp.Plan, stdout, stderr io.Writer) int {
	opts, err := runOptions(f, stdout, stderr)
	if err != nil {
		return usageError(stderr, "ovnrun", err)
	}
	err = engine.Run(ctx, plan, opts)
	var optErr *engine.OptionError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &optErr):
		return usageError(stderr, "ovnrun", err)
	case ctx.Err() != nil:
		// Ctrl-C or SIGTERM: the error is the context's, say why.
		fmt.Fprintf(stderr, "ovnrun: interrupted: %v\n", err)
	default:
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
	}
	return exitFailure
}

// evaluateRunbook evaluates a runbook with every builtin and the embedded
// stdlib, within limits, until ctx ends. On error it prints the error with
// its runbook position (and backtrace) and returns a nil plan with the
// runbook exit code, or exitFailure when ctx ended. onStart, if given, is
// handed the evaluation before it runs (ovnrun trace looks ports up by name
// in it).
func evaluateRunbook(ctx context.Context, path string, vars map[string]string, libs []string, limits evalLimits, stderr io.Writer, onStart ...func(*interp.Eval)) (*interp.Plan, int) {
	reg, err := newRegistry()
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return nil, exitInternal
	}
	opts := interp.Options{
		Registry: reg, Vars: vars, LibDirs: libs, Stdlib: stdlib.FS,
		Print: func(msg string) { fmt.Fprintln(stderr, msg) },
	}
	limits.apply(&opts)
	if len(onStart) > 0 {
		opts.OnStart = onStart[0]
	}
	plan, err := interp.EvaluateContext(ctx, path, nil, opts)
	if err != nil {
		var unread *interp.UnreadVarsError
		if errors.As(err, &unread) {
			return nil, usageError(stderr, "ovnrun", err)
		}
		var e *interp.Error
		if ctx.Err() != nil {
			at := ""
			if errors.As(err, &e) && e.Pos.File != "" {
				at = " at " + e.Pos.String()
			}
			fmt.Fprintf(stderr, "ovnrun: interrupted while evaluating %s%s; nothing was changed\n", path, at)
			return nil, exitFailure
		}
		if errors.As(err, &e) {
			fmt.Fprintf(stderr, "error: %s\n", e.Detail())
		} else {
			fmt.Fprintf(stderr, "error: %v\n", err)
		}
		return nil, exitRunbook
	}
	return plan, exitOK
}
