package lab

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// Configure points a run inside the lab at the lab: its inventory,
// known_hosts and journal, its VMs (network namespaces stand in for
// libvirt; QEMU guests are reached through the hosts' libvirt), and, after a
// destroy, the reset of its hosts.
func (l *Lab) Configure(o *engine.Options) {
	o.Hosts.Inventory, o.Hosts.KnownHosts = l.InventoryPath(), l.KnownHostsPath()
	if o.Journal.Path == "" {
		o.Journal.Path = l.JournalPath()
	}
	vms := engine.DriverSpec{Names: []string{"libvirt"}, Destroy: 1}
	if l.VMKind() == VMsNS {
		vms.Open = func(context.Context, *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			return []interp.Driver{NewVMDriver(l)}, nil, nil
		}
	}
	// The reset below puts the hosts back as the lab made them: the host
	// drivers need not undo their records first.
	o.Overrides = append(o.Overrides, vms, engine.DriverSpec{Names: []string{"host", "ovs"}})
	o.DestroyNote = fmt.Sprintf("Then, in lab %s, every host is reset to as it was when the lab came up.", l.Name)
	o.AfterDestroy = l.resetHosts
}

// resetHosts ends a destroy in the lab: everything on its hosts was made by
// the runbook, so "as they were" is as the lab brought them up.
func (l *Lab) resetHosts(progress io.Writer) error {
	start := time.Now()
	if err := l.ResetHosts(); err != nil {
		return err
	}
	fmt.Fprintf(progress, "Lab %s: every host is as it was when the lab came up (%s).\n", l.Name, time.Since(start).Round(time.Millisecond))
	return nil
}
