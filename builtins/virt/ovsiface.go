package virt

import (
	"context"
	"fmt"
	"time"

	"github.com/ovnrun/ovnrun/internal/ovshost"
)

// The host's Open vSwitch database, the session's client (internal/ovshost,
// shared with the host drivers), for two things: that the bridge a NIC goes
// to exists, and the NIC's external_ids:iface-id. libvirt adds the port
// itself (ovs-vsctl add-port, with attached-mac and an iface-id set to its
// own interface UUID); the driver then sets iface-id to the logical port's
// name, which is what ovn-controller binds.

// ovs returns the host's Open vSwitch database client. A database that is
// not running is an *ovshost.NotRunningError.
func (h *hostState) ovs(ctx context.Context) (*ovshost.Client, error) {
	if h.sessErr != nil {
		return nil, h.sessErr
	}
	return ovshost.Of(ctx, h.sess)
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
	c, err := h.ovs(ctx)
	if err != nil {
		return err
	}
	wait := h.d.cfg.BridgeWait
	if wait == 0 {
		wait = DefaultBridgeWait
	}
	r, err := c.WaitRow(ctx, "Bridge", bridge, wait)
	if err == nil && r == nil {
		return &MissingBridgeError{Bridge: bridge, Host: h.name}
	}
	return err
}

// ifaceID returns the iface-id of the OVS Interface dev, and whether the
// interface exists.
func (h *hostState) ifaceID(ctx context.Context, dev string) (string, bool, error) {
	c, err := h.ovs(ctx)
	if err != nil {
		return "", false, err
	}
	ids, ok, err := c.IfaceExternalIDs(ctx, dev)
	return ids["iface-id"], ok, err
}

// ovsWait bounds waiting for the port libvirt adds.
const ovsWait = 15 * time.Second

// setIfaceID waits for the OVS Interface dev (libvirt adds it while
// attaching) and sets its external_ids:iface-id to id.
func (h *hostState) setIfaceID(ctx context.Context, dev, id string) error {
	c, err := h.ovs(ctx)
	if err != nil {
		return err
	}
	if err := c.SetIfaceExternalIDs(ctx, dev, map[string]string{"iface-id": id}, ovsWait); err != nil {
		return fmt.Errorf("set external_ids:iface-id of Interface %s: %w", dev, err)
	}
	return nil
}
