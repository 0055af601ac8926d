package lab

import (
	"context"
	"os"
	"syscall"

	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/interp"
)

// PlanDestroy returns the deletion of every light VM and NIC of actions
// that the lab has, NICs first; the rest of the hosts (Open vSwitch and its
// bridges, the OVN daemons) is the host drivers' or lab down's.
func (d *VMDriver) PlanDestroy(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	var nics, vms []interp.Change
	for _, a := range actions {
		switch a := a.(type) {
		case *virt.Interface:
			s, err := d.nicState(ctx, a)
			if err != nil {
				return nil, err
			}
			if s.hostEnd || s.vmEnd || s.bridge != "" || s.dhcp {
				nics = append(nics, interp.Change{Action: a, Op: interp.OpDelete})
			}
		case *virt.Domain:
			d.remember(a)
			if exists(NamespacePath(d.lab.VMNS(a.M.Host, a.Domain))) {
				vms = append(vms, interp.Change{Action: a, Op: interp.OpDelete})
			}
		}
	}
	return append(nics, vms...), nil
}

// deleteNIC stops the NIC's DHCP client, unplugs it from Open vSwitch and
// deletes the veth pair.
func (d *VMDriver) deleteNIC(ctx context.Context, a *virt.Interface) error {
	h, err := d.host(a.M.Host)
	if err != nil {
		return err
	}
	if pid, ok := readPID(d.dhcpPidfile(a)); ok && !Gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	os.Remove(d.dhcpPidfile(a))
	if exists(ovshost.Socket(h.OVSRundir())) {
		c, err := d.ovsOf(ctx, h)
		if err != nil {
			return err
		}
		if err := c.DelPort(ctx, a.Dev); err != nil {
			return err
		}
	}
	if Run("ip", "-n", h.NS, "link", "show", "dev", a.Dev) == nil {
		return Run("ip", "-n", h.NS, "link", "del", a.Dev)
	}
	return nil
}

// deleteVM deletes the VM's namespace with whatever still runs in it.
func (d *VMDriver) deleteVM(a *virt.Domain) error {
	if err := RemoveNamespace(d.lab.VMNS(a.M.Host, a.Domain)); err != nil {
		return err
	}
	return os.RemoveAll(d.lab.vmDir(a.M.Host, a.Domain))
}
