package virt

import (
	"context"
	"fmt"
	"sort"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/interp"
)

// ownedDomain is a domain this runbook created, found by its metadata: the
// action destroy removes (with the disk ovnrun made for it). It need not be
// declared any more: a VM removed from the runbook is still destroyed.
type ownedDomain struct {
	interp.ActionMeta
	domain string
	disk   string
}

func (o *ownedDomain) Fields() []interp.Field {
	return []interp.Field{interp.F("name", o.domain), interp.F("disk", o.disk)}
}

// ownedNIC is a NIC ovnrun attached (its alias says so) that destroy
// detaches: one of an owned domain, or one a declared attach() plugged into
// a domain this runbook does not own.
type ownedNIC struct {
	interp.ActionMeta
	domain, dev, mac string
	// withDomain: the domain is destroyed too, which removes the NIC.
	withDomain bool
}

func (o *ownedNIC) Fields() []interp.Field {
	return []interp.Field{interp.F("vm", o.domain), interp.F("dev", o.dev), interp.F("mac", o.mac)}
}

// PlanDestroy lists, NICs before their domains, everything this runbook
// created on the hosts of Config.Hosts and of actions, as OpDelete changes.
// actions, the plan's actions (may be nil), give them their runbook
// positions. A host whose libvirtd is not running has nothing to destroy,
// and neither has one without declared VMs that cannot be reached.
func (d *Driver) PlanDestroy(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	declared := map[string]interp.Action{}
	hostSet := map[string]bool{} // true: the runbook declares VMs there
	for name := range d.cfg.Hosts {
		hostSet[name] = false
	}
	for _, a := range actions {
		if m := a.Meta(); m.Driver == DriverName {
			declared[m.ID] = a
			hostSet[m.Host] = true
		}
	}
	hosts := sortedKeys(hostSet)
	found := make([][]interp.Change, len(hosts))
	err := d.lanes(ctx, len(hosts), func(i int) string { return hosts[i] },
		func(ctx context.Context, h *hostState, i int) error {
			cs, err := h.planDestroy(ctx, declared)
			if notRunning(err) || err != nil && !hostSet[h.name] && ctx.Err() == nil {
				// A host with no declared VM (the central node, an
				// outside host) need not run libvirtd, or be reachable.
				d.logf(h.name, "note: %v: nothing to destroy there", err)
				return nil
			}
			if err != nil {
				return fmt.Errorf("host %s: %w", h.name, err)
			}
			found[i] = cs
			return nil
		})
	if err != nil {
		return nil, err
	}
	var nics, doms []interp.Change
	for _, cs := range found {
		for _, c := range cs {
			if _, ok := c.Action.(*ownedNIC); ok {
				nics = append(nics, c)
			} else {
				doms = append(doms, c)
			}
		}
	}
	return append(nics, doms...), nil
}

// planDestroy finds the host's domains and NICs this runbook owns.
func (h *hostState) planDestroy(ctx context.Context, declared map[string]interp.Action) ([]interp.Change, error) {
	type found struct {
		dom  libvirt.Domain
		live *liveDomain
	}
	var all []found
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		doms, _, err := l.ConnectListAllDomains(1, 0)
		if err != nil {
			return err
		}
		for _, dom := range doms {
			doc, err := l.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
			if isLibvirtErr(err, libvirt.ErrNoDomain) {
				continue // undefined meanwhile
			}
			if err != nil {
				return err
			}
			live, _, err := parseDomain(doc)
			if err != nil {
				return err
			}
			all = append(all, found{dom, live})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].dom.Name < all[j].dom.Name })
	var out []interp.Change
	withPos := func(c interp.Change, id string) interp.Change {
		if a := declared[id]; a != nil {
			c.Action.Meta().Stack = a.Meta().Stack
		} else {
			c.Note = "created by this runbook, no longer declared in it"
		}
		return c
	}
	for _, f := range all {
		id := f.live.Owner.Action
		if id == "" {
			id = "vm/" + h.name + "/" + f.dom.Name
		}
		mine := h.d.owns(f.live, declared[id] != nil)
		for _, n := range f.live.NICs {
			id := "vm_nic/" + h.name + "/" + n.Dev
			a, isDeclared := declared[id].(*Interface)
			if !n.owned() || !(mine || isDeclared && a.VM == f.dom.Name && a.MAC.String() == n.MAC) {
				continue
			}
			o := &ownedNIC{domain: f.dom.Name, dev: n.Dev, mac: n.MAC, withDomain: mine}
			o.M = interp.Meta{ID: id, Kind: "vm_nic", Name: h.name + "/" + n.Dev, Driver: DriverName, Host: h.name, Step: "destroy"}
			out = append(out, withPos(interp.Change{Action: o, Op: interp.OpDelete}, id))
		}
		if !mine {
			continue
		}
		o := &ownedDomain{domain: f.dom.Name, disk: f.live.Owner.Disk}
		o.M = interp.Meta{ID: id, Kind: "vm", Name: h.name + "/" + f.dom.Name, Driver: DriverName, Host: h.name, Step: "destroy"}
		out = append(out, withPos(interp.Change{Action: o, Op: interp.OpDelete}, id))
	}
	return out, nil
}

// destroyDomain removes an owned domain, checking again that it is this
// runbook's.
func (h *hostState) destroyDomain(ctx context.Context, o *ownedDomain) (interp.Op, error) {
	ds, err := h.lookup(ctx, o.domain)
	switch {
	case err != nil:
		return "", err
	case ds == nil:
		return interp.OpUnchanged, nil // already gone
	case !h.d.owns(ds.live, true): // planned: declared, or tagged with the owner
		return "", &ClashError{Domain: o.domain, Host: h.name, Other: ds.live.Owner.Runbook}
	}
	return interp.OpDelete, h.removeDomain(ctx, ds.dom, ds.live.Owner)
}

// detachOwnedNIC detaches a NIC ovnrun attached. One whose domain is being
// destroyed goes with it.
func (h *hostState) detachOwnedNIC(ctx context.Context, o *ownedNIC) (interp.Op, error) {
	if o.withDomain {
		return interp.OpDelete, nil // by destroyDomain, in this same step
	}
	ds, err := h.lookup(ctx, o.domain)
	switch {
	case err != nil:
		return "", err
	case ds == nil:
		return interp.OpUnchanged, nil // gone with its domain
	}
	nics := ds.live.NICs
	if ds.active {
		err := h.do(ctx, func(l *libvirt.Libvirt) error {
			doc, err := l.DomainGetXMLDesc(ds.dom, 0)
			if err == nil {
				var live *liveDomain
				if live, _, err = parseDomain(doc); err == nil {
					nics = live.NICs
				}
			}
			return err
		})
		if err != nil {
			return "", err
		}
	}
	for i := range nics {
		if n := &nics[i]; n.MAC == o.mac && n.owned() {
			return interp.OpDelete, h.detach(ctx, ds, n)
		}
	}
	return interp.OpUnchanged, nil
}

// destroyOrder places a VM or NIC in an offline destroy where PlanDestroy
// puts it: every NIC before every VM, each by host then domain name, NICs
// of one VM as declared (the order they were attached in).
func destroyOrder(a interp.Action) (int, string) {
	switch a := a.(type) {
	case *Interface:
		return 0, a.M.Host + "\x00" + a.VM
	case *Domain:
		return 1, a.M.Host + "\x00" + a.Domain
	}
	return 2, ""
}
