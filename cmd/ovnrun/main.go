// Command ovnrun evaluates an OVN lab runbook into a plan and applies it.
// This package only parses flags, turns them into engine.Options, prints and
// chooses exit codes: the run is the engine's, the Starlark host interp's,
// the builtins and drivers the domains' (builtins/*, listed once in
// registry.go). It names no driver, action type or systemd unit.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC lets the heap grow to 4x the live data before collecting, not 2x:
// a run is short and allocates most of what it keeps while reading the NB
// and planning, and collecting less often saves a fifth of its CPU on a
// large runbook for 10-20 MB more peak RSS (docs/speed.md). The soft limit
// keeps a very large runbook's heap near 256 MiB. GOGC and GOMEMLIMIT in the
// environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

// run is main without the process: tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "doc":
			return docCommand(args[1:], stdout, stderr)
		case "graph":
			return graphCommand(args[1:], stdout, stderr)
		case "lab":
			return labCommand(args[1:], stdout, stderr)
		case "trace":
			return traceCommand(args[1:], stdout, stderr)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
	}
	return planCommand(args, stdout, stderr)
}

const usage = `ovnrun - build OVN labs from Starlark runbooks

Usage:
  ovnrun [flags] RUNBOOK.star        apply the runbook (or plan it, with --dry-run)
  ovnrun doc [--markdown] [BUILTIN]  document every builtin, or one
  ovnrun graph [flags] RUNBOOK.star  draw the topology: dot, mermaid, svg, png, pdf (ovnrun graph --help)
  ovnrun lab up|down|status          an emulated lab on this machine (ovnrun lab --help)
  ovnrun trace [flags] RUNBOOK SRC DST
                                     a packet's path by chassis, with ovn-trace (ovnrun trace --help)

Flags:
  --dry-run            print the plan, change nothing
  --offline            contact nothing at all: plan as if every target were empty
  --output text|json   plan format (default text)
  -D, --var NAME=VALUE set a runbook variable read with var(); repeatable
  --only STEP[,STEP]   run only these steps
  --from STEP          run from this step to the end
  --lib DIR            search DIR for load() paths; repeatable
  --max-steps N        stop evaluating the runbook after N Starlark steps, naming where it
                       was (default 100000000, 12x what 110,000 actions take; 0: no limit)
  --max-memory SIZE    stop evaluating the runbook when its values take more than SIZE
                       (512MiB, 2GiB, bytes; default 1GiB; 0: no limit)
  --nb ADDR[,ADDR]     NB endpoint(s), overriding the runbook's ovn_nb()
  --nb-timeout DUR     give up connecting to the NB after DUR (default 10s)
  --adopt              take over same-named NB rows this runbook did not create
  --destroy            delete exactly the NB rows, VMs and VM NICs this runbook created
                       (with --lab, then reset the lab's hosts); with --dry-run, list them
  --wait sb|hv|none    after each NB transaction, wait for northd (sb) or all chassis (hv)
  --lab                run in an emulated lab on this machine, brought up when it is not (docs/lab.md)
  --lab-vms ns|qemu    with --lab, VMs are network namespaces (ns, the default) or QEMU guests

Ctrl-C or SIGTERM stops evaluation, planning or apply within a second: an apply
finishes its journal record and says how to --resume. A second one kills ovnrun.

Exit status: 0 done, 1 failure or interruption while evaluating, planning or applying,
2 bad command line (an unknown command or flag, a -D the runbook never reads, no
runbook), 3 invalid runbook, or one over --max-steps or --max-memory (nothing was
changed).
`
