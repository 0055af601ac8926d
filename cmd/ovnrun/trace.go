package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/interp"
)

type traceFlags struct {
	vars, libs []string
	hosts      hostFlags
	lab        bool
	protocol   string
	dstPort    int
	central    string
	detailed   bool
	limits     evalLimits
}

// newTraceCommand is `ovnrun trace`.
func newTraceCommand(c *cli) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace [flags] RUNBOOK.star SRC DST",
		Short: "a packet's path by chassis, with ovn-trace",
		Long: `ovnrun trace - the path of a packet through the logical network, by chassis

Runs ovn-trace on the runbook's central host (the one whose service() starts ovn-northd)
against its southbound database, for an ICMP echo request (or --protocol tcp|udp) from
SRC to DST, and says which datapaths the packet crosses, what NAT it meets and which
chassis processes each part: the VM's own hypervisor, or the gateway chassis through a
chassis-redirect port. It changes nothing: it only waits, as ovn-nbctl --wait=sb sync
does, for ovn-northd to be up to date. docs/dgp.md shows it on the seed lab.

SRC is a logical switch port of the runbook, a VM (h1/v0, or v0 when one host has a VM of
that name; its first NIC on a logical port with an IPv4 address) or the static IPv4
address of a port. DST is an IPv4 address, a port or a VM.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeRunbook(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(args); err != nil {
				return &commandLineError{hint: hintFor(cmd), err: err}
			}
			return status(traceCommand(&f, args, argsAfter(c.args, cmd), c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.BoolVar(&f.lab, "lab", false, "trace in the runbook's emulated lab (built by ovnrun --lab RUNBOOK)")
	fs.StringVar(&f.protocol, "protocol", "icmp", "the packet: `icmp|tcp|udp`")
	fs.IntVar(&f.dstPort, "dst-port", 0, "its destination `PORT`, with tcp and udp (default 80)")
	fs.StringVar(&f.central, "central", "", "run ovn-trace on `HOST`")
	fs.BoolVar(&f.detailed, "detailed", false, "also print ovn-trace's --detailed output")
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "set a runbook variable read with var(), as `NAME=VALUE`; repeatable")
	fs.StringArrayVar(&f.libs, "lib", nil, "search `DIR` for load() paths; repeatable")
	addEvalLimitFlags(fs, &f.limits)
	addHostFlags(fs, &f.hosts)
	completeFixed(cmd, "protocol", "icmp", "tcp", "udp")
	return cmd
}

// check refuses arguments and flag combinations that make no sense.
func (f *traceFlags) check(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("trace: want RUNBOOK SRC DST, got %d arguments", len(args))
	}
	if f.lab && (f.hosts.inventory != "" || f.hosts.knownHosts != "" || f.hosts.acceptNewKeys) {
		return errors.New("trace: --lab supplies the inventory and known_hosts itself: drop --inventory, --known-hosts and --accept-new-host-keys")
	}
	return nil
}

// argsAfter is the command line after cmd's name (args holds the whole
// command line), for --lab to run cmd again in the lab. Only the root's
// boolean flags may come before the name, so its first occurrence is it.
func argsAfter(args []string, cmd *cobra.Command) []string {
	if i := slices.Index(args, cmd.Name()); i >= 0 {
		return append(slices.Clone(args[:i]), args[i+1:]...)
	}
	return args
}

// traceCommand is `ovnrun trace RUNBOOK SRC DST` (pos); args are its
// command line after "trace", for --lab to run it again in the lab.
func traceCommand(f *traceFlags, pos, args []string, stdout, stderr io.Writer) int {
	vars, err := parseVars(f.vars)
	if err != nil {
		return usageError(stderr, "ovnrun trace", err)
	}
	var ev *interp.Eval
	ctx, stop := interruptContext(stderr)
	defer stop()
	plan, code := evaluateRunbook(ctx, pos[0], vars, f.libs, f.limits, nil, stderr, func(e *interp.Eval) { ev = e })
	if plan == nil {
		return code
	}
	fail := func(code int, err error) int {
		if code == exitUsage {
			return usageError(stderr, "ovnrun trace", fmt.Errorf("trace: %w", err))
		}
		fmt.Fprintf(stderr, "ovnrun: trace: %v\n", err)
		return code
	}
	if f.lab {
		if err := enterTraceLab(f, plan, args); err != nil {
			return fail(exitFailure, err)
		}
	}
	opts := check.TraceOptions{Protocol: f.protocol, DstPort: f.dstPort}
	if f.central != "" {
		if _, ok := plan.Hosts[f.central]; !ok {
			return fail(exitUsage, fmt.Errorf("--central %s: the runbook declares no such host", f.central))
		}
		opts.Central = f.central
	}
	src, err := check.TraceArg(plan, ev, pos[1], false)
	if err == nil {
		var dst check.TraceEnd
		if dst, err = check.TraceArg(plan, ev, pos[2], true); err == nil {
			var t *check.Trace
			if t, err = check.NewTrace(plan, ev.Port, src, dst, opts); err == nil {
				return runTrace(ctx, f, plan, t, stdout, stderr)
			}
		}
	}
	return fail(exitUsage, err)
}

// runTrace runs t through the hosts' connections and prints its path.
func runTrace(ctx context.Context, f *traceFlags, plan *interp.Plan, t *check.Trace, stdout, stderr io.Writer) int {
	opts := engine.Options{Domains: domains(nil), Hosts: f.hosts.options(), Stdout: stdout, Stderr: stderr}
	ds, closeDrivers, err := engine.Open(ctx, plan, opts, check.DriverName)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: trace: %v\n", err)
		return exitFailure
	}
	defer closeDrivers()
	res, err := ds[check.DriverName].(*check.Driver).RunTrace(ctx, t, f.detailed)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: trace %s: %v\n", t.M.Name, err)
		return exitFailure
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Trace %s (%s", t.M.Name, t.Protocol)
	if t.Protocol != "icmp" {
		fmt.Fprintf(&b, " port %d", t.DstPort)
	}
	fmt.Fprintf(&b, " from %s %s", t.Port, res.Src)
	if !strings.HasSuffix(t.M.Name, " "+res.Dst.String()) {
		fmt.Fprintf(&b, " to %s", res.Dst)
	}
	fmt.Fprintf(&b, "), ovn-trace on %s:\n  %s\n", t.M.Host, res.Microflow)
	if f.detailed {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimRight(res.Detailed, "\n"))
	}
	summary := res.Summary()
	fmt.Fprintf(&b, "\n%s%s:\n", strings.ToUpper(summary[0][:1]), summary[0][1:])
	for _, l := range summary[1:] {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	io.WriteString(stdout, b.String())
	return exitOK
}

// enterTraceLab runs this ovnrun again inside the control namespace of
// the runbook's lab, as --lab does, and returns only on failure; inside, it
// points the run at the lab's inventory and known_hosts. A trace needs the
// lab built: it does not bring one up.
func enterTraceLab(f *traceFlags, plan *interp.Plan, args []string) error {
	if name := os.Getenv(labInside); name != "" {
		l, err := lab.Open(name)
		if err != nil {
			return err
		}
		if !lab.InNamespaceNow(l.CtlNS) {
			return fmt.Errorf("%s=%s, but this process is not in the lab's namespace %s", labInside, name, l.CtlNS)
		}
		f.hosts.inventory, f.hosts.knownHosts, f.hosts.sshConfig = l.InventoryPath(), l.KnownHostsPath(), "none"
		return nil
	}
	spec, err := lab.SpecFor(plan)
	if err != nil {
		return err
	}
	l, err := lab.Open(spec.Name)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab %s is not up: build it with ovnrun --lab %s", spec.Name, plan.Runbook)
	} else if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), labInside+"="+l.Name, "TMPDIR="+l.TmpDir())
	return lab.ExecInNamespace(l.CtlNS, append([]string{exe, "trace"}, args...), env)
}
