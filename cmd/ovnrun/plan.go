package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	out             outputFlags
	yes             bool
	saveTo          string // --out
	// stdin is where a confirmation is read, prompt where it is asked
	// (stdout, or stderr under --output json; never filtered by -q).
	stdin  *os.File
	prompt io.Writer
}

func addPlanFlags(fs *pflag.FlagSet, f *planFlags) {
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan, change nothing")
	fs.BoolVarP(&f.yes, "yes", "y", false, "apply (or --destroy) without asking, also with no terminal; a run with --lab never asks")
	fs.BoolVar(&f.offline, "offline", false, "contact nothing at all: plan as if every target were empty (with --dry-run)")
	fs.StringVar(&f.output, "output", "text", "print the plan as `text|json`")
	fs.StringVar(&f.saveTo, "out", "", "with --dry-run, also save the plan to `FILE.json`, which ovnrun apply FILE.json applies if the targets still match it")
	addOutputFlags(fs, &f.out)
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "set a runbook variable read with var(), as `NAME=VALUE`; repeatable")
	fs.StringSliceVar(&f.only, "only", nil, "run only the steps `STEP[,STEP]`")
	fs.StringVar(&f.from, "from", "", "run from `STEP` to the end")
	fs.StringArrayVar(&f.libs, "lib", nil, "search `DIR` for load() paths; repeatable")
	addEvalLimitFlags(fs, &f.limits)
	addLiveFlags(fs, &f.live)
}

// newApplyCommand is the command that applies a runbook: the root
// (ovnrun RUNBOOK.star) and its alias ovnrun apply.
func newApplyCommand(c *cli, use string) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:               use,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeRunbook(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := f.check(cmd, args)
			if err == nil && f.out.quiet && c.verbose {
				err = errors.New("-q and -v cannot be combined")
			}
			if err != nil {
				return &commandLineError{hint: hintFor(cmd), err: err}
			}
			f.stdin = c.stdin
			if isSavedPlan(path) {
				if err := checkSavedApply(cmd); err != nil {
					return &commandLineError{hint: hintFor(cmd), err: err}
				}
				return status(applySavedPlan(&f, path, c.stdout, c.stderr))
			}
			return status(planCommand(&f, path, c.args, c.stdout, c.stderr))
		},
	}
	cmd.Flags().SortFlags = false
	addPlanFlags(cmd.Flags(), &f)
	completeStepFlags(cmd, &f)
	completeFixed(cmd, "output", "text", "json")
	completeFixed(cmd, "wait", "none", "sb", "hv")
	completeFixed(cmd, "lab-vms", "ns", "qemu")
	return cmd
}

// check refuses flag combinations that make no sense and returns the
// runbook's path.
func (f *planFlags) check(cmd *cobra.Command, args []string) (string, error) {
	f.live.lab.vmsSet = cmd.Flags().Changed("lab-vms")
	if len(args) > 0 {
		if err := checkRunbookArg(args[0], commandNames(cmd.Root())); err != nil {
			return "", err
		}
	}
	switch len(args) {
	case 0:
		return "", fmt.Errorf("no runbook given: ovnrun [flags] RUNBOOK.star")
	case 1:
	default:
		return "", fmt.Errorf("want exactly one runbook, got %d arguments", len(args))
	}
	if f.output != "text" && f.output != "json" {
		return "", fmt.Errorf("--output %q: want text or json", f.output)
	}
	if len(f.only) > 0 && f.from != "" {
		return "", fmt.Errorf("--only and --from cannot be combined")
	}
	if f.offline && !f.dryRun {
		return "", fmt.Errorf("--offline only plans: add --dry-run")
	}
	if err := checkLabFlags(f); err != nil {
		return "", err
	}
	if err := f.checkOut(); err != nil {
		return "", err
	}
	return args[0], nil
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

// planCommand applies the runbook at path, or prints its plan; args are
// the whole command line, for --lab to run ovnrun again in the lab.
func planCommand(f *planFlags, path string, args []string, stdout, stderr io.Writer) int {
	vars, err := parseVars(f.vars)
	if err != nil {
		return usageError(stderr, "ovnrun", err)
	}
	// One context for evaluation, planning and apply: Ctrl-C stops any of
	// them; an apply records the run as interrupted so --resume continues.
	ctx, stop := interruptContext(stderr)
	defer stop()
	inside, inputs, err := runInputs(f)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return exitFailure
	}
	plan, code := evaluateRunbook(ctx, path, vars, f.libs, f.limits, inputs, stderr)
	if plan == nil {
		return code
	}
	f.live.text.Colour = f.output == "text" && f.out.colour(stdout)
	f.prompt = progressOf(f, stdout, stderr)
	stdout, stderr = f.out.quietOutput(f.output == "json", stdout, stderr)
	if f.live.lab.on {
		if code := enterLab(f, plan, inside, args, stdout, stderr); code >= 0 {
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
	opts.Confirm = confirmer(f, plan, f.stdin, f.prompt)
	if f.saveTo != "" {
		savePlanner(f, plan, &opts)
	}
	code := runEngine(ctx, plan, opts, stderr)
	if code == exitOK && f.saveTo != "" {
		fmt.Fprintf(opts.Progress(), "\nSaved the plan to %s: ovnrun apply %s applies it.\n", f.saveTo, f.saveTo)
	}
	return code
}

// evaluateRunbook evaluates a runbook with every builtin and the embedded
// stdlib, within limits, until ctx ends; inputs, if given, adds what the run
// brings beside the runbook (runInputs). On error it prints the error with
// its runbook position (and backtrace) and returns a nil plan with the
// runbook exit code, or exitFailure when ctx ended. onStart, if given, is
// handed the evaluation before it runs (ovnrun trace looks ports up by name
// in it).
func evaluateRunbook(ctx context.Context, path string, vars map[string]string, libs []string, limits evalLimits, inputs func(*interp.Options), stderr io.Writer, onStart ...func(*interp.Eval)) (*interp.Plan, int) {
	reg, err := newRegistry()
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return nil, exitInternal
	}
	opts := interp.Options{
		Registry: reg, Vars: vars, LibDirs: libs, Stdlib: stdlib.FS, Sources: librarySources(path),
		Print: func(msg string) { fmt.Fprintln(stderr, msg) },
	}
	limits.apply(&opts)
	if inputs != nil {
		inputs(&opts)
	}
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
