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

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/libvirtd"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The emulated lab: `ovnrun --lab RUNBOOK` and `ovnrun lab up|down|status`
// (docs/lab.md). internal/lab builds it; here are the flags and the step
// into the lab's control namespace.

// labFlags are the flags of runs in an emulated lab.
type labFlags struct {
	on  bool
	vms string // what a vm() is in the lab: "ns" or "qemu"
	// vmsSet says that --lab-vms was given: a lab that is up with other
	// VMs is then refused; without it, a lab that is up keeps its own.
	vmsSet bool
	// lab is the lab this process runs inside, once it has entered it.
	lab *lab.Lab
}

func addLabFlags(fs *pflag.FlagSet, f *labFlags) {
	fs.BoolVar(&f.on, "lab", false, "run against an emulated lab on this machine, brought up for the runbook's hosts when it is not up (docs/lab.md)")
	fs.StringVar(&f.vms, "lab-vms", "ns", "with --lab, what vm() makes, `ns|qemu`: a network namespace or a QEMU guest through libvirt")
}

// labInside names the lab whose control namespace this ovnrun runs in: the
// environment of the ovnrun that `--lab` runs there.
const labInside = "OVNRUN_LAB_INSIDE"

// checkLabFlags refuses combinations that make no sense with --lab.
func checkLabFlags(f *planFlags) error {
	lf := &f.live
	if !lf.lab.on {
		if lf.lab.vms != "ns" {
			return errors.New("--lab-vms needs --lab")
		}
		return nil
	}
	switch {
	case f.offline:
		return errors.New("--lab contacts the lab: it cannot be --offline")
	case lf.hosts.inventory != "" || lf.hosts.knownHosts != "" || lf.hosts.acceptNewKeys:
		return errors.New("--lab supplies the inventory and known_hosts itself: drop --inventory, --known-hosts and --accept-new-host-keys")
	case lf.lab.vms != lab.VMsNS && lf.lab.vms != lab.VMsQEMU:
		return fmt.Errorf("--lab-vms %q: want ns or qemu", lf.lab.vms)
	}
	return nil
}

// enterLab prepares a --lab run. From the machine's own namespace it brings
// the runbook's lab up (unless it is) and runs this ovnrun again, with the
// same arguments, inside the lab's control namespace, from which only lab
// addresses are reachable; it returns only on failure. Inside (inside is
// the lab, which runInputs opened), it points the run at the lab (useLab)
// and returns -1.
func enterLab(f *planFlags, plan *interp.Plan, inside *lab.Lab, args []string, stdout, stderr io.Writer) int {
	lf := &f.live
	if inside != nil {
		if err := useLab(lf, inside, plan, progressOf(f, stdout, stderr)); err != nil {
			fmt.Fprintf(stderr, "ovnrun: %v\n", err)
			return exitFailure
		}
		return -1
	}
	progress := progressOf(f, stdout, stderr)
	spec, err := lab.SpecFor(plan)
	if lf.lab.vmsSet {
		spec.VMs = lf.lab.vms
	}
	var l *lab.Lab
	switch {
	case err != nil:
	case lf.destroy:
		// Destroy empties a lab, it does not build one.
		if l, err = lab.Open(spec.Name); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(progress, "Lab %s is not up: nothing to destroy.\n", spec.Name)
			return exitOK
		}
		if err == nil && lf.lab.vmsSet && l.VMKind() != lf.lab.vms {
			err = fmt.Errorf("lab %s is up with %s VMs, not %s: drop --lab-vms", l.Name, l.VMKind(), lf.lab.vms)
		}
	default:
		l, _, err = lab.Up(spec, progress)
	}
	if err == nil {
		var exe string
		if exe, err = os.Executable(); err == nil {
			env := append(os.Environ(), labInside+"="+l.Name, "TMPDIR="+l.TmpDir())
			err = lab.ExecInNamespace(l.CtlNS, append([]string{exe}, args...), env)
		}
	}
	fmt.Fprintf(stderr, "ovnrun: %v\n", err)
	return exitFailure
}

// progressOf is where a run's progress goes: stdout, unless the plan is
// printed there as JSON.
func progressOf(f *planFlags, stdout, stderr io.Writer) io.Writer {
	if f.output == "json" {
		return stderr
	}
	return stdout
}

// insideLab returns the lab this process runs inside, with --lab, or nil
// when it runs in the machine's own namespace.
func insideLab(lf *liveFlags) (*lab.Lab, error) {
	name := os.Getenv(labInside)
	if !lf.lab.on || name == "" {
		return nil, nil
	}
	l, err := lab.Open(name)
	if err == nil && !lab.InNamespaceNow(l.CtlNS) {
		err = fmt.Errorf("%s=%s, but this process is not in the lab's namespace %s", labInside, name, l.CtlNS)
	}
	return l, err
}

// runInputs returns the lab the run is inside (or nil) and what the run
// brings to evaluation beside the runbook: the inventory (--inventory, or
// the lab's) and, in a lab with QEMU guests, the guest kit every vm()
// boots. The plan is then right from evaluation on.
func runInputs(f *planFlags) (*lab.Lab, func(*interp.Options), error) {
	lf := &f.live
	l, err := insideLab(lf)
	if err != nil {
		return nil, nil, err
	}
	path := lf.hosts.inventory
	if l != nil {
		// The lab's hosts are reached as its inventory says, whatever
		// the user's ~/.ssh/config makes of their addresses.
		path, lf.hosts.sshConfig = l.InventoryPath(), "none"
	}
	var inv *remote.Inventory
	if path != "" {
		if inv, err = remote.LoadInventory(path); err != nil {
			return nil, nil, err
		}
	}
	lf.hosts.loaded = inv
	var kit *virt.GuestKit
	if l != nil && l.VMKind() == lab.VMsQEMU {
		k, err := libvirtd.FindKit()
		if err != nil {
			return nil, nil, err
		}
		kit = &virt.GuestKit{Kernel: k.Kernel, Initrd: k.Initrd, Cmdline: libvirtd.KitCmdline,
			VCPUs: lab.GuestVCPUs, MemoryMiB: lab.GuestMemoryMiB, Name: "lab " + l.Name + ": " + k.Dir}
	}
	return l, func(o *interp.Options) {
		host.SetInventory(o, inv, path)
		if kit != nil {
			virt.SetGuestKit(o, *kit)
		}
	}, nil
}

// useLab points a run inside lab l at the lab (lab.Configure, through
// runOptions). With QEMU guests, the lab's VMs boot the guest kit (an
// input to evaluation: runInputs), which it says.
func useLab(lf *liveFlags, l *lab.Lab, plan *interp.Plan, progress io.Writer) error {
	if lf.lab.vmsSet && lf.lab.vms != l.VMKind() {
		return fmt.Errorf("lab %s is up with %s VMs, not %s: tear it down first (ovnrun lab down %s)", l.Name, l.VMKind(), lf.lab.vms, l.Name)
	}
	lf.lab.lab, lf.lab.vms = l, l.VMKind()
	if l.VMKind() != lab.VMsQEMU {
		return nil
	}
	// Apply waits for the guests to boot at the end of the step that
	// starts them, so that the checks meet guests that are up.
	lf.virt.waitGuests = true
	if n := virt.GuestKitVMs(plan); n > 0 && !lf.destroy {
		fmt.Fprintf(progress, "Lab %s: the %d VM(s) are QEMU guests of the guest kit (%d vCPU, %d MiB, direct kernel boot); "+
			"the runbook's image, vcpus, memory_mib and disk_gib are for real hosts (docs/lab.md).\n\n",
			l.Name, n, lab.GuestVCPUs, lab.GuestMemoryMiB)
	}
	return nil
}

// newLabCommand is `ovnrun lab up|down|status|exec|shell|capture`.
func newLabCommand(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "an emulated lab on this machine: up, down, status, exec, shell, capture",
		Long: `ovnrun lab - an emulated lab on this machine

ovnrun lab up brings up a lab for the runbook's hosts, in network namespaces; ovnrun --lab
RUNBOOK brings the lab up when it is not, then applies the runbook to it; ovnrun lab exec,
shell and capture work inside its hosts and VMs. See docs/lab.md.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab: want up, down, status, exec, shell or capture")}
			case args[0] == "help":
				return cmd.Help()
			}
			err := fmt.Errorf("lab: unknown command %q: want up, down, status, exec, shell or capture", args[0])
			if s := interp.Suggest(args[0], commandNames(cmd)); s != "" {
				err = fmt.Errorf("lab: unknown command %q: did you mean %q?", args[0], s)
			}
			return &commandLineError{hint: hintFor(cmd), err: err}
		},
	}
	cmd.AddCommand(newLabUpCommand(c), newLabDownCommand(c), newLabStatusCommand(c),
		newLabExecCommand(c), newLabShellCommand(c), newLabCaptureCommand(c), newLabImpairCommand(c))
	return cmd
}

func newLabUpCommand(c *cli) *cobra.Command {
	var vars, libs []string
	var vms string
	cmd := &cobra.Command{
		Use:   "up [flags] RUNBOOK.star",
		Short: "bring up an emulated lab for the runbook's hosts",
		Long: `ovnrun lab up - bring up an emulated lab for the runbook's hosts, whose VMs are network
namespaces (ns) or QEMU guests (qemu). It prints how to apply the runbook to it, log in to
a host and tear it down.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeRunbook(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if len(args) != 1 {
				err = errors.New("lab up takes one runbook")
			} else if vms != lab.VMsNS && vms != lab.VMsQEMU {
				err = fmt.Errorf("--lab-vms %q: want ns or qemu", vms)
			}
			if err != nil {
				return &commandLineError{hint: hintFor(cmd), err: err}
			}
			return status(labUp(args[0], vars, libs, vms, c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringArrayVarP(&vars, "var", "D", nil, "set a runbook variable read with var(), as `NAME=VALUE`; repeatable")
	fs.StringArrayVar(&libs, "lib", nil, "search `DIR` for load() paths; repeatable")
	fs.StringVar(&vms, "lab-vms", lab.VMsNS, "what the lab's VMs are, `ns|qemu`: network namespaces or QEMU guests through libvirt")
	completeFixed(cmd, "lab-vms", lab.VMsNS, lab.VMsQEMU)
	return cmd
}

func newLabDownCommand(c *cli) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:               "down [flags] RUNBOOK|LAB",
		Short:             "tear a lab down: its namespaces, processes and files",
		Long:              "ovnrun lab down - tear a lab down, named or the runbook's: its namespaces, processes and files; with --all, every lab.",
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeLab,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == all || len(args) > 1 {
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab down takes a runbook or lab name, or --all")}
			}
			names := lab.List()
			if !all {
				names = []string{labName(args[0])}
			}
			return status(labDown(names, c.stdout, c.stderr))
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "tear every lab down")
	cmd.SetFlagErrorFunc(labUpFlagError)
	return cmd
}

func newLabStatusCommand(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "show the labs that are up",
		Long:  "ovnrun lab status - show the labs that are up: their hosts, addresses, VMs and devices, and what lab exec, shell and capture can name.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab status takes no argument")}
			}
			return status(labStatus(c.stdout))
		},
	}
	cmd.SetFlagErrorFunc(labUpFlagError)
	return cmd
}

// labUpFlagError says, of a flag of lab up given to down or status, that
// it belongs to lab up.
func labUpFlagError(cmd *cobra.Command, err error) error {
	for _, name := range []string{"--var", "-D", "--lib", "--lab-vms"} {
		if strings.Contains(err.Error(), "flag: "+name) || strings.Contains(err.Error(), "'"+strings.TrimPrefix(name, "-")+"'") {
			return &commandLineError{hint: hintFor(cmd), err: errors.New("-D, --lib and --lab-vms are for lab up")}
		}
	}
	return flagError(cmd, err)
}

func labDown(names []string, stdout, stderr io.Writer) int {
	code := exitOK
	for _, n := range names {
		if err := lab.Down(n); err != nil {
			fmt.Fprintf(stderr, "ovnrun: %v\n", err)
			code = exitFailure
			continue
		}
		fmt.Fprintf(stdout, "Lab %s is down.\n", n)
	}
	return code
}

// labName is the lab a runbook path or a lab name designates.
func labName(arg string) string {
	if strings.HasSuffix(arg, ".star") || strings.Contains(arg, "/") {
		return lab.NameFor(arg)
	}
	return arg
}

func labUp(path string, vars, libs []string, vms string, stdout, stderr io.Writer) int {
	values, err := parseVars(vars)
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return exitUsage
	}
	plan, code := evaluateRunbook(context.Background(), path, values, libs, defaultEvalLimits(), nil, stderr)
	if plan == nil {
		return code
	}
	spec, err := lab.SpecFor(plan)
	spec.VMs = vms
	var l *lab.Lab
	var created bool
	if err == nil {
		l, created, err = lab.Up(spec, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return exitFailure
	}
	if !created {
		fmt.Fprintf(stdout, "Lab %s was already up.\n", l.Name)
	}
	fmt.Fprint(stdout, lab.StatusText(l))
	run := "ovnrun --lab "
	if l.VMKind() == lab.VMsQEMU {
		run += "--lab-vms=qemu "
	}
	fmt.Fprintf(stdout, "\nApply the runbook to it:  %s%s\n", run, path)
	if len(l.Hosts) > 0 {
		fmt.Fprintf(stdout, "Log in to a host:         ip netns exec %s ssh -i %s -o UserKnownHostsFile=%s root@%s\n",
			l.CtlNS, l.KeyPath(), l.KnownHostsPath(), l.Hosts[0].Address)
	}
	fmt.Fprintf(stdout, "Tear it down:             ovnrun lab down %s\n", l.Name)
	return exitOK
}

func labStatus(stdout io.Writer) int {
	names := lab.List()
	if len(names) == 0 {
		fmt.Fprintln(stdout, "No lab is up.")
		return exitOK
	}
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		l, err := lab.Open(n)
		if err != nil {
			fmt.Fprintf(stdout, "Lab %s is half up (%v): ovnrun lab down %s\n", n, err, n)
			continue
		}
		fmt.Fprint(stdout, lab.StatusText(l))
	}
	return exitOK
}
