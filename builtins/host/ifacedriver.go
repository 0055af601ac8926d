package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
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
	db, err := h.db(ctx, dbOVS)
	if err != nil {
		return nil, false, err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return nil, false, err
	}
	if i := s.iface(iface); i != nil {
		return strMap(i, "external_ids"), true, nil
	}
	return nil, false, nil
}

// SetInterfaceExternalIDs sets keys of an interface's external_ids on a
// host, leaving its other keys alone, and waits until the database shows
// them. It waits up to 10 s for the interface to exist.
func (d *OVSDriver) SetInterfaceExternalIDs(ctx context.Context, host, iface string, ids map[string]string) error {
	h, err := d.hs.host(host)
	if err != nil {
		return err
	}
	db, err := h.dbWhenUp(ctx, dbOVS)
	if err != nil {
		return err
	}
	var s *ovsState
	err = poll.Until(ctx, ifaceWait, pollEvery, func() (bool, error) {
		s, err = readOVS(ctx, db)
		return err == nil && s.iface(iface) != nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("interface %s is not in %s's Open vSwitch database after %s", iface, host, ifaceWait)
	}
	if err != nil {
		return err
	}
	i := s.iface(iface)
	live := strMap(i, "external_ids")
	set := map[string]string{}
	var keys []string
	for _, k := range sortedKeys(ids) {
		if v, ok := live[k]; !ok || v != ids[k] {
			set[k] = ids[k]
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	op := ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface", Where: whereUUID(ovsdbmodel.UUID(i)),
		Mutations: []ovsdb.Mutation{
			{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: stringSet(keys...)},
			{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: stringMap(set)},
		}}
	if _, err := transact(ctx, db, "interface "+iface, op); err != nil {
		return err
	}
	return settle(ctx, func() (bool, error) {
		got, _, err := d.InterfaceExternalIDs(ctx, host, iface)
		for k, v := range ids {
			if got[k] != v {
				return false, err
			}
		}
		return true, err
	})
}
