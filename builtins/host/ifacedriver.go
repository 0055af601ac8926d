package host

import (
	"context"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
)

// Interface external_ids bind an OVS interface to a logical port: the VM
// NIC libvirt plugs into br-int gets external_ids:iface-id=<lsp>, as the
// seed does with `ovs-vsctl set interface h1_v0_vnet2 external-ids:iface-id=
// h1_v0_vnet2`. These helpers are for the driver of attach(), which knows
// the NIC; they reuse the host's connection and database client.

// ifaceWait bounds waiting for an interface to appear: libvirt adds the
// port of a hot-plugged NIC a moment after the device.
const ifaceWait = 10 * time.Second

func (s *ovsState) iface(name string) model.Model {
	for _, i := range s.ifaces {
		if str(i, "name") == name {
			return i
		}
	}
	return nil
}

// InterfaceExternalIDs returns the external_ids of the interface named
// iface on a host; ok is false when the host has no such interface.
func (d *OVSDriver) InterfaceExternalIDs(ctx context.Context, host, iface string) (ids map[string]string, ok bool, err error) {
	h, err := d.hs.host(host)
	if err != nil {
		return nil, false, err
	}
	c, err := h.ovs(ctx)
	if err != nil {
		return nil, false, err
	}
	return c.IfaceExternalIDs(ctx, iface)
}

// SetInterfaceExternalIDs sets keys of an interface's external_ids on a
// host, leaving its other keys alone, and waits until the database shows
// them. It waits up to 10 s for the interface to exist.
func (d *OVSDriver) SetInterfaceExternalIDs(ctx context.Context, host, iface string, ids map[string]string) error {
	h, err := d.hs.host(host)
	if err != nil {
		return err
	}
	if _, err := h.dbWhenUp(ctx, dbOVS); err != nil {
		return err
	}
	c, err := h.ovs(ctx)
	if err != nil {
		return err
	}
	return c.SetIfaceExternalIDs(ctx, iface, ids, ifaceWait)
}
