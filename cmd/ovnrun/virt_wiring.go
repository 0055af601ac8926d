package main

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// virtFlags are the flags of the libvirt driver (docs/vms.md).
type virtFlags struct {
	recreateVMs bool
	// waitGuests is set in a lab with QEMU guests, whose guest kit
	// opens the command channel once booted (virt.Config.WaitGuests).
	waitGuests bool
}

func addVirtFlags(fs *pflag.FlagSet, f *virtFlags) {
	fs.BoolVar(&f.recreateVMs, "recreate-vms", false,
		"destroy and define anew a VM whose domain differs from the runbook (its disk is recreated from the image); without it such a run is refused")
}

// The libvirt driver runs the check driver's pings inside its guests.
var _ check.GuestRunner = (*virt.Driver)(nil)

// openVirtDriver returns the "libvirt" driver for plan: hosts are reached
// over the run's sessions, shared with the host drivers (one connection
// per host per run), each host's libvirt socket as its inventory says, and
// the domains are tagged with the runbook's owner tag, as NB rows are.
// Nothing is dialled until an action needs a host.
func openVirtDriver(vf *virtFlags, plan *interp.Plan, sessions *remote.Sessions, stderr io.Writer) (*virt.Driver, error) {
	return virt.NewDriver(virt.Config{
		Sessions:    sessions,
		Hosts:       virt.HostConfigs(sessions.Targets()),
		Owner:       ovn.Owner(plan.Runbook),
		RecreateVMs: vf.recreateVMs,
		WaitGuests:  vf.waitGuests,
		Log:         stderr,
	})
}
