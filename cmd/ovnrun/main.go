// Command ovnrun evaluates an OVN lab runbook into a plan and applies it.
// This package only parses the command line (with cobra: one file per
// verb), turns flags into engine.Options, prints and chooses exit codes: the
// run is the engine's, the Starlark host interp's, the builtins and drivers
// the domains' (builtins/*, listed once in registry.go). It names no driver,
// action type or systemd unit.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// Exit codes, distinct so scripts can tell a bad runbook (nothing changed)
// from a failure while applying.
const (
	exitOK       = 0
	exitFailure  = 1 // runtime failure while planning or applying
	exitUsage    = 2 // bad command line
	exitRunbook  = 3 // the runbook is invalid; nothing was changed
	exitInternal = 4
)

func main() {
	tuneGC()
	stop := profileCPU()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// profileCPU writes a CPU profile of the run to $OVNRUN_CPUPROFILE, for
// finding where a slow run spends its time (docs/speed.md).
func profileCPU() func() {
	path := os.Getenv("OVNRUN_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ovnrun: OVNRUN_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// tuneGC lets the heap grow to 4x the live data before collecting, not 2x:
// a run is short and allocates most of what it keeps while reading the NB
// and planning, and collecting less often saves a fifth of its CPU on a
// large runbook for 10-20 MB more peak RSS (docs/speed.md). The soft limit
// of 1 GiB (the default --max-memory) bounds a very large runbook's heap; a
// lower one made the collector run without pause once the live heap neared
// it: at 110,000 rows, 256 MiB took 22 s where 1 GiB takes 14-15 s, for
// 1.0 GB peak RSS instead of 0.67 GB. GOGC and GOMEMLIMIT in the
// environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// run is main without the process: tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if args == nil {
		args = []string{} // cobra reads os.Args when given none
	}
	defer keepLogging()()
	c := &cli{args: args, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(c)
	return exitCode(root.Execute(), root, stderr)
}

// cli is one invocation of ovnrun: its arguments, where it writes, and the
// flags every command shares.
type cli struct {
	args           []string
	stdin          *os.File // where an apply reads its confirmation
	stdout, stderr io.Writer
	verbose        bool
}

// newRootCommand is ovnrun's command tree. The root applies the runbook it
// is given; each subcommand is in the file of its verb.
func newRootCommand(c *cli) *cobra.Command {
	root := newApplyCommand(c, "ovnrun [flags] RUNBOOK.star")
	root.Short = "build OVN labs from Starlark runbooks"
	root.Long = `ovnrun - build OVN labs from Starlark runbooks

ovnrun RUNBOOK.star evaluates the runbook into a plan, prints it and applies it to the OVN
Northbound database, the hosts (over SSH) and their libvirt; with --dry-run it only prints
the plan.`
	root.Annotations = map[string]string{footerKey: `Ctrl-C or SIGTERM stops evaluation, planning or apply within a second: an apply
finishes its journal record and says how to --resume. A second one kills ovnrun.

Outside an emulated lab (--lab) an apply or destroy that changes something asks
"Apply these changes? Only 'yes' is accepted:" on a terminal; with no terminal it is
refused unless --yes (docs/confirm.md).

Exit status: 0 done, 1 failure or interruption while evaluating, planning or applying,
or an apply not confirmed, 2 bad command line (an unknown command or flag, a -D the
runbook never reads, no runbook, an apply with no terminal to confirm on and no --yes),
3 invalid runbook, or one over --max-steps or --max-memory (nothing was
changed).`}
	root.Version = versionText(debug.ReadBuildInfo())
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVarP(&c.verbose, "verbose", "v", false,
		"also print a debug log on stderr: connections opened, each driver's planning and each applied batch, with timings")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if c.verbose {
			startDebugLog(c.stderr)
		}
	}

	apply := newApplyCommand(c, "apply [flags] RUNBOOK.star|PLAN.json")
	apply.Short = "apply a runbook (the same as ovnrun RUNBOOK.star), or a saved plan"
	apply.Long = `Apply a runbook, or with --dry-run print its plan: the same as ovnrun RUNBOOK.star.
ovnrun apply PLAN.json applies a plan saved with --dry-run --out PLAN.json, without evaluating the
runbook again, if the live targets still hold what it was made against (docs/saved-plans.md).`
	root.AddCommand(apply, newConvertCommand(c), newDocCommand(c), newGetCommand(c), newGraphCommand(c), newImportCommand(c), newLabCommand(c), newTraceCommand(c), newVersionCommand())
	root.SetArgs(c.args)
	root.SetOut(c.stdout) // before the completion command, which takes it
	root.SetErr(c.stderr)
	root.SetHelpCommand(newHelpCommand())
	root.InitDefaultCompletionCmd()
	if completion, _, err := root.Find([]string{"completion"}); err == nil && completion != root {
		completion.Short = "print the script completing ovnrun's commands in bash, zsh, fish or powershell"
	}
	root.SetHelpFunc(writeHelp)
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		writeUsage(cmd.OutOrStderr(), cmd)
		return nil
	})
	root.SetFlagErrorFunc(flagError)
	root.SilenceErrors, root.SilenceUsage = true, true
	return root
}
