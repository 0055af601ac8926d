package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

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
	fs.StringVar(&f.vms, "lab-vms", "ns", "with --lab, what vm() makes: ns (a network namespace) or qemu (a QEMU guest through libvirt)")
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
// addresses are reachable; it returns only on failure. Inside, it points the
// run at the lab (useLab) and returns -1.
func enterLab(f *planFlags, plan *interp.Plan, args []string, stdout, stderr io.Writer) int {
	lf := &f.live
	if name := os.Getenv(labInside); name != "" {
		l, err := lab.Open(name)
		if err == nil && !lab.InNamespaceNow(l.CtlNS) {
			err = fmt.Errorf("%s=%s, but this process is not in the lab's namespace %s", labInside, name, l.CtlNS)
		}
		if err == nil {
			err = useLab(lf, l, plan, progressOf(f, stdout, stderr))
		}
		if err != nil {
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

// useLab points a run inside lab l at the lab's inventory, known_hosts
// and journal. With QEMU guests, the lab's VMs boot the guest kit
// (lab.UseGuestKit), which it says.
func useLab(lf *liveFlags, l *lab.Lab, plan *interp.Plan, progress io.Writer) error {
	if lf.lab.vmsSet && lf.lab.vms != l.VMKind() {
		return fmt.Errorf("lab %s is up with %s VMs, not %s: tear it down first (ovnrun lab down %s)", l.Name, l.VMKind(), lf.lab.vms, l.Name)
	}
	lf.lab.lab, lf.lab.vms = l, l.VMKind()
	lf.hosts.inventory, lf.hosts.knownHosts = l.InventoryPath(), l.KnownHostsPath()
	if lf.journal == "" {
		lf.journal = l.JournalPath()
	}
	if l.VMKind() != lab.VMsQEMU {
		return nil
	}
	// Apply waits for the guests to boot at the end of the step that
	// starts them, so that the checks meet guests that are up.
	lf.virt.waitGuests = true
	kit, err := libvirtd.FindKit()
	if err != nil {
		return err
	}
	if n := lab.UseGuestKit(plan, kit); n > 0 && !lf.destroy {
		fmt.Fprintf(progress, "Lab %s: the %d VM(s) are QEMU guests of the guest kit in %s (%d vCPU, %d MiB, direct kernel boot); "+
			"the runbook's image, vcpus, memory_mib and disk_gib are for real hosts (docs/lab.md).\n\n",
			l.Name, n, kit.Dir, lab.GuestVCPUs, lab.GuestMemoryMiB)
	}
	return nil
}

// openVMDriver returns the driver of vm() and attach(): namespaces in a lab
// with light VMs, libvirt elsewhere (and in a lab with QEMU guests, whose
// inventory gives each host's libvirt socket).
func openVMDriver(lf *liveFlags, plan *interp.Plan, sessions *remote.Sessions, stderr io.Writer) (interp.Driver, error) {
	if lf.lab.lab != nil && lf.lab.lab.VMKind() == lab.VMsNS {
		return lab.NewVMDriver(lf.lab.lab), nil
	}
	return openVirtDriver(&lf.virt, plan, sessions, stderr)
}

// resetLabHosts ends a --destroy in a lab: everything on its hosts was
// made by the runbook, so "as they were" is as the lab brought them up.
func resetLabHosts(l *lab.Lab, progress io.Writer) error {
	start := time.Now()
	if err := l.ResetHosts(); err != nil {
		return err
	}
	fmt.Fprintf(progress, "Lab %s: every host is as it was when the lab came up (%s).\n", l.Name, time.Since(start).Round(time.Millisecond))
	return nil
}

const labUsage = `Usage:
  ovnrun lab up [-D NAME=VALUE]... [--lib DIR]... [--lab-vms ns|qemu] RUNBOOK
                            bring up an emulated lab for the runbook's hosts,
                            whose VMs are namespaces (ns) or QEMU guests
  ovnrun lab down RUNBOOK|LAB   tear a lab down: its namespaces, processes and files
  ovnrun lab down --all         tear every lab down
  ovnrun lab status             show the labs that are up

ovnrun --lab RUNBOOK brings the lab up when it is not, then applies the
runbook to it. See docs/lab.md.
`

// labCommand is `ovnrun lab`.
func labCommand(args []string, stdout, stderr io.Writer) int {
	usageErr := func(format string, a ...any) int {
		return usageError(stderr, "ovnrun lab", fmt.Errorf(format, a...))
	}
	if len(args) == 0 {
		return usageErr("lab: want up, down or status")
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, labUsage)
		return exitOK
	}
	fs := pflag.NewFlagSet("ovnrun lab", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, labUsage) }
	vars := fs.StringArrayP("var", "D", nil, "runbook variable NAME=VALUE")
	libs := fs.StringArray("lib", nil, "library search directory")
	all := fs.Bool("all", false, "every lab")
	vms := fs.String("lab-vms", lab.VMsNS, "what the lab's VMs are: ns or qemu")
	if err := parseFlags(fs, args[1:]); err != nil {
		return usageError(stderr, "ovnrun lab", err)
	}
	if (len(*vars)+len(*libs) > 0 || fs.Changed("lab-vms")) && args[0] != "up" {
		return usageErr("-D, --lib and --lab-vms are for lab up")
	}
	if *vms != lab.VMsNS && *vms != lab.VMsQEMU {
		return usageErr("--lab-vms %q: want ns or qemu", *vms)
	}
	switch args[0] {
	case "up":
		if fs.NArg() != 1 || *all {
			return usageErr("lab up takes one runbook")
		}
		return labUp(fs.Arg(0), *vars, *libs, *vms, stdout, stderr)
	case "down":
		if (fs.NArg() == 1) == *all {
			return usageErr("lab down takes a runbook or lab name, or --all")
		}
		names := lab.List()
		if !*all {
			names = []string{labName(fs.Arg(0))}
		}
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
	case "status":
		if fs.NArg() != 0 || *all {
			return usageErr("lab status takes no argument")
		}
		return labStatus(stdout)
	}
	if s := interp.Suggest(args[0], []string{"up", "down", "status"}); s != "" {
		return usageErr("lab: unknown command %q: did you mean %q?", args[0], s)
	}
	return usageErr("lab: unknown command %q: want up, down or status", args[0])
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
	plan, code := evaluateRunbook(context.Background(), path, values, libs, defaultEvalLimits(), stderr)
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
