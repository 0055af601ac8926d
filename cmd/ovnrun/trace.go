package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/interp"
)

const traceUsage = `ovnrun trace - the path of a packet through the logical network, by chassis

Usage:
  ovnrun trace [flags] RUNBOOK.star SRC DST

Runs ovn-trace on the runbook's central host (the one whose service() starts ovn-northd)
against its southbound database, for an ICMP echo request (or --protocol tcp|udp) from
SRC to DST, and says which datapaths the packet crosses, what NAT it meets and which
chassis processes each part: the VM's own hypervisor, or the gateway chassis through a
chassis-redirect port. It changes nothing: it only waits, as ovn-nbctl --wait=sb sync
does, for ovn-northd to be up to date. docs/dgp.md shows it on the seed lab.

SRC is a logical switch port of the runbook, a VM (h1/v0, or v0 when one host has a VM of
that name; its first NIC on a logical port with an IPv4 address) or the static IPv4
address of a port. DST is an IPv4 address, a port or a VM.

Flags:
  --lab                  trace in the runbook's emulated lab (built by ovnrun --lab RUNBOOK)
  --protocol icmp|tcp|udp  the packet (default icmp)
  --dst-port N           its destination port, with tcp and udp (default 80)
  --central HOST         run ovn-trace on HOST
  --detailed             also print ovn-trace's --detailed output
  -D, --var NAME=VALUE   set a runbook variable read with var(); repeatable
  --lib DIR              search DIR for load() paths; repeatable
  --max-steps N, --max-memory SIZE
                         bound the runbook's evaluation, as for a run (ovnrun --help)
  --inventory FILE, --known-hosts FILE, --accept-new-host-keys, --ssh-timeout DUR
                         how to reach the hosts, as for an apply (docs/hosts.md)
`

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

func parseTraceFlags(args []string, stderr io.Writer) (*traceFlags, []string, error) {
	var f traceFlags
	fs := pflag.NewFlagSet("ovnrun trace", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, traceUsage) }
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "runbook variable NAME=VALUE")
	fs.StringArrayVar(&f.libs, "lib", nil, "library search directory")
	addEvalLimitFlags(fs, &f.limits)
	fs.BoolVar(&f.lab, "lab", false, "trace in the runbook's emulated lab")
	fs.StringVar(&f.protocol, "protocol", "icmp", "icmp, tcp or udp")
	fs.IntVar(&f.dstPort, "dst-port", 0, "destination port, with tcp and udp")
	fs.StringVar(&f.central, "central", "", "host to run ovn-trace on")
	fs.BoolVar(&f.detailed, "detailed", false, "also print ovn-trace --detailed")
	addHostFlags(fs, &f.hosts)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() != 3 {
		return nil, nil, fmt.Errorf("trace: want RUNBOOK SRC DST, got %d arguments", fs.NArg())
	}
	if f.lab && (f.hosts.inventory != "" || f.hosts.knownHosts != "" || f.hosts.acceptNewKeys) {
		return nil, nil, errors.New("trace: --lab supplies the inventory and known_hosts itself: drop --inventory, --known-hosts and --accept-new-host-keys")
	}
	return &f, fs.Args(), nil
}

// traceCommand is `ovnrun trace`.
func traceCommand(args []string, stdout, stderr io.Writer) int {
	f, pos, err := parseTraceFlags(args, stderr)
	if err != nil {
		return usageError(stderr, "ovnrun trace", err)
	}
	vars, err := parseVars(f.vars)
	if err != nil {
		return usageError(stderr, "ovnrun trace", err)
	}
	var ev *interp.Eval
	ctx, stop := interruptContext(stderr)
	defer stop()
	plan, code := evaluateRunbook(ctx, pos[0], vars, f.libs, f.limits, stderr, func(e *interp.Eval) { ev = e })
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
	src, err := traceArg(plan, ev, pos[1], false)
	if err == nil {
		var dst check.TraceEnd
		if dst, err = traceArg(plan, ev, pos[2], true); err == nil {
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
	drivers, _, err := openHostDrivers(ctx, &f.hosts, plan, nil, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: trace: %v\n", err)
		return exitFailure
	}
	defer func() {
		for _, d := range drivers {
			d.Close()
		}
	}()
	hd, _ := drivers[0].(*host.HostDriver)
	res, err := check.NewDriver(hd, nil).RunTrace(ctx, t, f.detailed)
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

// traceArg resolves SRC or DST: a logical switch port, a VM, or an address
// (a port's static one, for SRC).
func traceArg(plan *interp.Plan, ev *interp.Eval, arg string, isDst bool) (check.TraceEnd, error) {
	what := "SRC"
	if isDst {
		what = "DST"
	}
	if p, ok := ev.Port(arg); ok {
		return check.TraceEnd{Label: arg, Port: p}, nil
	}
	if ip, err := interp.ParseIP(arg); err == nil {
		if isDst {
			return check.TraceEnd{Label: arg, IP: ip}, nil
		}
		for _, a := range planActions(plan, "logical_switch_port") {
			if p, ok := ev.Port(a.Meta().Name); ok && starlarkString(p.PortIPv4()) == ip.String() {
				return check.TraceEnd{Label: p.PortName(), Port: p}, nil
			}
		}
		return check.TraceEnd{}, fmt.Errorf("SRC %s: no logical switch port of the runbook has this static address; name the port or its VM", arg)
	}
	if _, isHost := plan.Hosts[arg]; isHost {
		return check.TraceEnd{}, fmt.Errorf("%s %s is a host: give one of its addresses", what, arg)
	}
	vm, err := findVM(plan, arg)
	if err != nil {
		return check.TraceEnd{}, fmt.Errorf("%s %s: %w", what, arg, err)
	}
	for _, a := range planActions(plan, "vm_nic") {
		nic, ok := a.(*virt.Interface)
		if !ok || nic.M.Host+"/"+nic.VM != vm {
			continue
		}
		if p, ok := ev.Port(nic.IfaceID); ok && p.PortIPv4() != starlark.None {
			return check.TraceEnd{Label: vm, Port: p}, nil
		}
	}
	return check.TraceEnd{}, fmt.Errorf("%s %s: the VM has no NIC on a logical switch port with an IPv4 address", what, arg)
}

func starlarkString(v starlark.Value) string {
	s, _ := starlark.AsString(v)
	return s
}

// findVM returns "HOST/VM" for a VM named as such, or by its name alone
// when one host has a VM of that name.
func findVM(plan *interp.Plan, arg string) (string, error) {
	var found []string
	for _, a := range planActions(plan, "vm") {
		name := a.Meta().Name
		if name == arg || strings.HasSuffix(name, "/"+arg) {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", errors.New("the runbook declares no logical switch port or VM of that name")
	}
	return "", fmt.Errorf("several hosts have a VM of that name (%s): say which", strings.Join(found, ", "))
}

// planActions lists the plan's actions of a kind, in declaration order.
func planActions(plan *interp.Plan, kind string) []interp.Action {
	var out []interp.Action
	for _, s := range plan.Steps {
		for _, a := range s.Actions {
			if a.Meta().Kind == kind {
				out = append(out, a)
			}
		}
	}
	return out
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
		f.hosts.inventory, f.hosts.knownHosts = l.InventoryPath(), l.KnownHostsPath()
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
