package virt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// A NIC is identified by its MAC and its target dev (the tap's name on the
// host): attach() is idempotent by both, in the running guest and in the
// persistent definition alike. A NIC attached by hand with the same MAC,
// dev and bridge (as the seed's virsh attach-device does) counts as done;
// only its iface-id is converged. A NIC that only one of the two holds (a
// `virsh attach-device --config` while the guest ran, or a detach that was
// cut short) is attached to the other alone: attaching it to both would
// leave the definition with two NICs of one MAC.

// nicState is a declared NIC as found on its domain.
type nicState struct {
	ds      *domainState
	byMAC   *liveNIC // the domain's NIC with the declared MAC
	byDev   *liveNIC // the domain's NIC with the declared dev
	conf    *liveNIC // the persistent definition's NIC with the declared MAC
	inLive  bool     // present in the running domain (when it runs)
	inConf  bool     // present in the persistent definition
	ifaceID string   // OVS external_ids:iface-id, when the port exists
	ovsPort bool
}

// findNIC reads the state of a declared NIC. ds is nil when the domain is
// not defined.
func (h *hostState) findNIC(ctx context.Context, a *Interface) (*nicState, error) {
	ds, err := h.lookup(ctx, a.VM)
	if err != nil || ds == nil {
		return &nicState{}, err
	}
	ns := &nicState{ds: ds}
	conf := ds.live.NICs
	nics := conf
	if ds.active {
		err := h.do(ctx, func(l *libvirt.Libvirt) error {
			doc, err := l.DomainGetXMLDesc(ds.dom, 0)
			if err != nil {
				return err
			}
			live, _, err := parseDomain(doc)
			if err == nil {
				nics = live.NICs
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	mac := a.MAC.String()
	for i := range nics {
		n := &nics[i]
		if n.MAC == mac {
			ns.byMAC = n
		}
		if n.Dev == a.Dev {
			ns.byDev = n
		}
	}
	ns.inLive = ds.active && ns.byMAC != nil
	for i := range conf {
		if conf[i].MAC == mac {
			ns.inConf, ns.conf = true, &conf[i]
		}
	}
	if ds.active && ns.byMAC != nil && ns.byMAC.Dev == a.Dev {
		ns.ifaceID, ns.ovsPort, err = h.ifaceID(ctx, a.Dev)
		if err != nil {
			return nil, err
		}
	}
	return ns, nil
}

// diffs compares the found NIC with the declaration.
func (ns *nicState) diffs(a *Interface) []interp.FieldDiff {
	var diffs []interp.FieldDiff
	add := func(key string, old, new any) {
		if old != new {
			diffs = append(diffs, interp.FieldDiff{Key: key, Old: old, New: new})
		}
	}
	n := ns.byMAC
	if n == nil {
		n = ns.byDev
	}
	if n == nil { // only the persistent definition has it
		n = ns.conf
	}
	add("mac", n.MAC, a.MAC.String())
	add("dev", n.Dev, a.Dev)
	add("bridge", n.Bridge, a.Bridge)
	if !n.OVS {
		add("virtualport", "none", "openvswitch")
	}
	if ns.ds.active && len(diffs) == 0 {
		if !ns.inLive {
			add("live", false, true)
		}
		if !ns.inConf {
			add("persistent", false, true)
		}
		if ns.ovsPort {
			add("iface_id", ns.ifaceID, a.IfaceID)
		}
	}
	return diffs
}

func (h *hostState) planNIC(ctx context.Context, a *Interface) (interp.Change, error) {
	ns, err := h.findNIC(ctx, a)
	if notRunning(err) {
		return interp.Change{Action: a, Op: interp.OpCreate, Note: err.Error() + " yet"}, nil
	}
	if err != nil {
		return interp.Change{}, err
	}
	if ns.ds == nil || (ns.byMAC == nil && ns.byDev == nil && ns.conf == nil) {
		c := interp.Change{Action: a, Op: interp.OpCreate}
		if err := h.checkBridge(ctx, a.Bridge); err != nil {
			// The bridge or Open vSwitch itself may come from an earlier
			// step; apply refuses if they are still missing then.
			var mb *MissingBridgeError
			var nr *ovshost.NotRunningError
			if !errors.As(err, &mb) && !errors.As(err, &nr) {
				return interp.Change{}, err
			}
			c.Note = err.Error() + " yet"
		}
		return c, nil
	}
	h.mu.Lock()
	recreated := h.recreated[a.VM]
	h.mu.Unlock()
	if recreated {
		return interp.Change{Action: a, Op: interp.OpCreate, Note: "attached anew: its VM is recreated"}, nil
	}
	if d := ns.diffs(a); len(d) > 0 {
		return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: d}, nil
	}
	return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
}

// detachWait bounds waiting for a guest to release a NIC.
const detachWait = 20 * time.Second

// applyNIC converges one NIC: attach it (live and persistent) when
// missing, attach it where only one of the two lacks it, replace one whose
// MAC, dev or bridge differs, and set its iface-id on the host's OVS. It
// returns what it did: create (attached), update (replaced, attached where
// missing, or its iface-id set) or unchanged.
func (h *hostState) applyNIC(ctx context.Context, a *Interface) (interp.Op, error) {
	ns, err := h.findNIC(ctx, a)
	if err != nil {
		return "", err
	}
	if ns.ds == nil {
		return "", fmt.Errorf("domain %s is not defined on host %s", a.VM, h.name)
	}
	op := interp.OpCreate
	if ns.byMAC != nil || ns.byDev != nil || ns.conf != nil {
		op = interp.OpUpdate
		d := ns.diffs(a)
		if len(d) == 0 {
			return interp.OpUnchanged, nil
		}
		if half := halfAttached(d); half != 0 {
			// The NIC is right where it is: attach it where it is missing.
			return op, h.attach(ctx, ns, a, half)
		}
		if len(d) == 1 && d[0].Key == "iface_id" {
			return op, h.setIfaceID(ctx, a.Dev, a.IfaceID)
		}
		// The persistent definition's NIC of the declared MAC goes too when
		// the running guest lacks it; detaching byMAC removes both.
		var confOnly *liveNIC
		if ns.byMAC == nil {
			confOnly = ns.conf
		}
		for _, old := range []*liveNIC{ns.byMAC, ns.byDev, confOnly} {
			if old == nil {
				continue
			}
			if !old.owned() && old.MAC != a.MAC.String() {
				return "", fmt.Errorf("dev %s of domain %s is a NIC with MAC %s that ovnrun did not attach; ovnrun leaves it alone: choose another dev=", old.Dev, a.VM, old.MAC)
			}
			if err := h.detach(ctx, ns.ds, old); err != nil {
				return "", err
			}
			if old == ns.byDev && ns.byDev == ns.byMAC {
				break
			}
		}
	}
	flags := libvirt.DomainDeviceModifyConfig
	if ns.ds.active {
		flags |= libvirt.DomainDeviceModifyLive
	}
	return op, h.attach(ctx, ns, a, flags)
}

// halfAttached says where a NIC that is otherwise as declared is missing:
// the running guest, the persistent definition, or (0) neither.
func halfAttached(diffs []interp.FieldDiff) libvirt.DomainDeviceModifyFlags {
	var flags libvirt.DomainDeviceModifyFlags
	for _, d := range diffs {
		switch d.Key {
		case "live":
			flags |= libvirt.DomainDeviceModifyLive
		case "persistent":
			flags |= libvirt.DomainDeviceModifyConfig
		case "iface_id":
		default:
			return 0
		}
	}
	return flags
}

// attach attaches the declared NIC to the running guest, the persistent
// definition or both (flags), then sets its iface-id when the guest runs.
func (h *hostState) attach(ctx context.Context, ns *nicState, a *Interface, flags libvirt.DomainDeviceModifyFlags) error {
	if err := h.checkBridge(ctx, a.Bridge); err != nil {
		return err
	}
	doc, err := interfaceXML(a)
	if err != nil {
		return err
	}
	err = h.do(ctx, func(l *libvirt.Libvirt) error { return l.DomainAttachDeviceFlags(ns.ds.dom, doc, uint32(flags)) })
	if err != nil {
		return fmt.Errorf("attach the NIC to domain %s: %w", a.VM, err)
	}
	if !ns.ds.active {
		h.d.logf(h.name, "note: domain %s is not running: NIC %s is in its definition and gets its iface-id once it runs", a.VM, a.Dev)
		return nil
	}
	return h.setIfaceID(ctx, a.Dev, a.IfaceID)
}

// detach removes a NIC from a domain, live and persistent, and waits until
// the guest has released it.
func (h *hostState) detach(ctx context.Context, ds *domainState, n *liveNIC) error {
	doc, err := n.XML.Marshal()
	if err != nil {
		return err
	}
	return h.do(ctx, func(l *libvirt.Libvirt) error {
		if ds.active {
			err := l.DomainDetachDeviceFlags(ds.dom, doc, uint32(libvirt.DomainDeviceModifyLive))
			if err != nil && !isLibvirtErr(err, libvirt.ErrDeviceMissing) {
				return fmt.Errorf("detach NIC %s (%s) from domain %s: %w", n.Dev, n.MAC, ds.dom.Name, err)
			}
			err = poll.Until(ctx, detachWait, pollEvery, func() (bool, error) {
				live, err := l.DomainGetXMLDesc(ds.dom, 0)
				return err == nil && !strings.Contains(strings.ToLower(live), "'"+n.MAC+"'"), err
			})
			if errors.Is(err, poll.ErrTimeout) {
				return fmt.Errorf("the guest of domain %s did not release NIC %s (%s) within %s", ds.dom.Name, n.Dev, n.MAC, detachWait)
			}
			if err != nil {
				return err
			}
		}
		err := l.DomainDetachDeviceFlags(ds.dom, doc, uint32(libvirt.DomainDeviceModifyConfig))
		if err != nil && !isLibvirtErr(err, libvirt.ErrDeviceMissing) {
			return fmt.Errorf("detach NIC %s (%s) from the definition of domain %s: %w", n.Dev, n.MAC, ds.dom.Name, err)
		}
		return nil
	})
}
