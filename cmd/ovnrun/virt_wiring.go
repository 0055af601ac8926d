package main

import (
	"errors"
	"io"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
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

// virtDriver is the libvirt driver with the connection pool it reaches
// hosts through, closed together.
type virtDriver struct {
	*virt.Driver
	pool *remote.Pool
}

func (d *virtDriver) Close() error { return errors.Join(d.Driver.Close(), d.pool.Close()) }

// openVirtDriver returns the "libvirt" driver for plan: hosts are reached
// as the host drivers reach them (runbook, then inventory, same SSH
// settings), each host's OVS database in its inventory's ovs_rundir, and
// the domains are tagged with the runbook's owner tag, as NB rows are.
// Nothing is dialled until an action needs a host. It has a pool of its
// own: one more SSH connection per hypervisor, until the host drivers
// hand out theirs.
func openVirtDriver(f *hostFlags, vf *virtFlags, plan *interp.Plan, stderr io.Writer) (*virtDriver, error) {
	var inv *remote.Inventory
	if f.inventory != "" {
		var err error
		if inv, err = remote.LoadInventory(f.inventory); err != nil {
			return nil, err
		}
	}
	rc := remote.Config{KnownHosts: f.knownHosts, AcceptNewHostKeys: f.acceptNewKeys, DialTimeout: f.sshTimeout}
	if rc.KnownHosts == "" && inv != nil {
		rc.KnownHosts = inv.KnownHosts
	}
	pool, err := remote.NewPool(rc)
	if err != nil {
		return nil, err
	}
	targets := host.Targets(plan, inv)
	d, err := virt.NewDriver(virt.Config{
		Conn:        virt.PoolConn(pool, targets),
		Hosts:       virt.HostConfigs(targets),
		Owner:       ovn.Owner(plan.Runbook),
		RecreateVMs: vf.recreateVMs,
		WaitGuests:  vf.waitGuests,
		Log:         stderr,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &virtDriver{Driver: d, pool: pool}, nil
}
