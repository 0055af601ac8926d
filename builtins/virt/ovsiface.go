package virt

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// The host's Open vSwitch database, reached with libovsdb through the host
// connection (as the host domain's ovs driver does), for two things: that
// the bridge a NIC goes to exists, and the NIC's external_ids:iface-id.
// libvirt adds the port itself (ovs-vsctl add-port, with attached-mac and an
// iface-id set to its own interface UUID); the driver then sets iface-id to
// the logical port's name, which is what ovn-controller binds.

type ovsConn struct {
	db  *ovsdbmodel.DB
	tun *remote.Tunnel
}

func (o *ovsConn) close() error {
	o.db.Close()
	return o.tun.Close()
}

var ovsTables = map[string][]string{
	"Bridge":    {"name"},
	"Interface": {"name", "external_ids"},
}

// OVSNotRunningError says that the host's Open vSwitch database is not
// there (yet).
type OVSNotRunningError struct{ Host, Socket string }

func (e *OVSNotRunningError) Error() string {
	return fmt.Sprintf("Open vSwitch is not running on host %s (nothing listens on %s)", e.Host, e.Socket)
}

// ovsDB returns the host's OVS database client, connecting on first use.
func (h *hostState) ovsDB(ctx context.Context) (*ovsdbmodel.DB, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ovs != nil {
		return h.ovs.db, nil
	}
	conn, err := h.conn(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	sock := path.Join(h.cfg.OVSRundir, "db.sock")
	tun, err := remote.OpenTunnel(ctx, conn, sock)
	if errors.Is(err, remote.ErrNoSocket) {
		return nil, &OVSNotRunningError{Host: h.name, Socket: sock}
	}
	if err != nil {
		return nil, fmt.Errorf("the Open vSwitch database of host %s: %w", h.name, err)
	}
	db, err := ovsdbmodel.Connect(ctx, []string{tun.Endpoint}, "Open_vSwitch", ovsTables)
	if err == nil && len(db.Missing()) > 0 {
		db.Close()
		err = db.Missing()[0]
	}
	if err != nil {
		tun.Close()
		return nil, fmt.Errorf("the Open vSwitch database of host %s at %s: %w", h.name, sock, err)
	}
	h.ovs = &ovsConn{db: db, tun: tun}
	return db, nil
}

// findRow returns the row of table whose name is name, or nil.
func findRow(ctx context.Context, db *ovsdbmodel.DB, table, name string) (model.Model, error) {
	rows, err := db.List(ctx, table)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if v, _ := ovsdbmodel.Get(r, "name"); v == name {
			return r, nil
		}
	}
	return nil, nil
}

// MissingBridgeError says that the OVS bridge a NIC goes to does not exist.
type MissingBridgeError struct{ Bridge, Host string }

func (e *MissingBridgeError) Error() string {
	return fmt.Sprintf("bridge %s does not exist in the Open vSwitch of host %s: create it first "+
		"(bridge(%q, ...) in an earlier step, or let ovn-controller create br-int)", e.Bridge, e.Host, e.Bridge)
}

// DefaultBridgeWait is how long attach waits for a NIC's bridge unless
// Config.BridgeWait says otherwise.
const DefaultBridgeWait = 10 * time.Second

// checkBridge returns a *MissingBridgeError when bridge is not on the host
// within the driver's BridgeWait: ovn-controller creates br-int a moment
// after it starts, which may be just before the NICs are attached.
func (h *hostState) checkBridge(ctx context.Context, bridge string) error {
	db, err := h.ovsDB(ctx)
	if err != nil {
		return err
	}
	wait := h.d.cfg.BridgeWait
	if wait == 0 {
		wait = DefaultBridgeWait
	}
	err = poll.Until(ctx, wait, pollEvery, func() (bool, error) {
		r, err := findRow(ctx, db, "Bridge", bridge)
		return r != nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return &MissingBridgeError{Bridge: bridge, Host: h.name}
	}
	return err
}

// ifaceID returns the iface-id of the OVS Interface dev, and whether the
// interface exists.
func (h *hostState) ifaceID(ctx context.Context, dev string) (string, bool, error) {
	db, err := h.ovsDB(ctx)
	if err != nil {
		return "", false, err
	}
	r, err := findRow(ctx, db, "Interface", dev)
	if err != nil || r == nil {
		return "", false, err
	}
	v, _ := ovsdbmodel.Get(r, "external_ids")
	ids, _ := v.(map[string]string)
	return ids["iface-id"], true, nil
}

// ovsWait bounds waiting for the port libvirt adds, and for the cache to
// show our own change.
const ovsWait = 15 * time.Second

// setIfaceID waits for the OVS Interface dev (libvirt adds it while
// attaching) and sets its external_ids:iface-id to id.
func (h *hostState) setIfaceID(ctx context.Context, dev, id string) error {
	db, err := h.ovsDB(ctx)
	if err != nil {
		return err
	}
	var row model.Model
	err = poll.Until(ctx, ovsWait, pollEvery, func() (bool, error) {
		var err error
		row, err = findRow(ctx, db, "Interface", dev)
		return row != nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("libvirt attached the NIC, but no Interface %s appeared in the Open vSwitch database of host %s within %s", dev, h.name, ovsWait)
	}
	if err != nil {
		return err
	}
	v, _ := ovsdbmodel.Get(row, "external_ids")
	if ids, _ := v.(map[string]string); ids["iface-id"] == id {
		return nil
	}
	// A map insert keeps an existing key's value: delete the key first.
	op := ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface",
		Where: []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: ovsdbmodel.UUID(row)})},
		Mutations: []ovsdb.Mutation{
			{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{"iface-id"}}},
			{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: map[any]any{"iface-id": id}}},
		}}
	res, err := db.Client().Transact(ctx, op)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, []ovsdb.Operation{op})
	}
	if err != nil {
		return fmt.Errorf("set external_ids:iface-id of Interface %s: %w", dev, err)
	}
	err = poll.Until(ctx, ovsWait, pollEvery, func() (bool, error) {
		got, _, err := h.ifaceID(ctx, dev)
		return got == id, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("set external_ids:iface-id of Interface %s: committed, but not seen within %s", dev, ovsWait)
	}
	return err
}
