package virt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/interp"
)

// ClashError says that a domain with a declared VM's name exists on the
// host and ovnrun did not create it for this runbook.
type ClashError struct {
	Domain, Host string
	Other        string // the runbook that owns it; "" when none does
}

func (e *ClashError) Error() string {
	whose := "ovnrun did not create it (it carries no ovnrun metadata)"
	if e.Other != "" {
		whose = fmt.Sprintf("it belongs to runbook %q", e.Other)
	}
	return fmt.Sprintf("a domain named %q already exists on host %s and %s; ovnrun never takes over a domain: "+
		"rename the VM, or remove that domain (virsh undefine %s)", e.Domain, e.Host, whose, e.Domain)
}

// domainState is a domain as found on a host.
type domainState struct {
	dom    libvirt.Domain
	live   *liveDomain // from the persistent (inactive) definition
	active bool        // running or paused
	state  libvirt.DomainState
}

// lookup finds a domain by name; nil when there is none.
func (h *hostState) lookup(ctx context.Context, name string) (*domainState, error) {
	var ds *domainState
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		dom, err := l.DomainLookupByName(name)
		if isLibvirtErr(err, libvirt.ErrNoDomain) {
			return nil
		}
		if err != nil {
			return err
		}
		doc, err := l.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
		if err != nil {
			return err
		}
		live, _, err := parseDomain(doc)
		if err != nil {
			return err
		}
		st, _, err := l.DomainGetState(dom, 0)
		if err != nil {
			return err
		}
		s := libvirt.DomainState(st)
		ds = &domainState{dom: dom, live: live, state: s, active: s == libvirt.DomainRunning || s == libvirt.DomainPaused ||
			s == libvirt.DomainBlocked || s == libvirt.DomainPmsuspended}
		return nil
	})
	return ds, err
}

// ownedDomain returns the domain of a vm action, refusing one that this
// runbook does not own.
func (h *hostState) ownDomain(ctx context.Context, a *Domain) (*domainState, error) {
	ds, err := h.lookup(ctx, a.Domain)
	if err != nil || ds == nil {
		return nil, err
	}
	if !h.d.owns(ds.live, true) {
		return nil, &ClashError{Domain: a.Domain, Host: h.name, Other: ds.live.Owner.Runbook}
	}
	return ds, nil
}

// owns reports whether a domain is this runbook's: tagged with the owner,
// or, when declared, with the legacy tag (Config.Legacy).
func (d *Driver) owns(live *liveDomain, declared bool) bool {
	if !live.Owned {
		return false
	}
	o := live.Owner.Runbook
	return o == d.cfg.Owner || declared && d.cfg.Legacy != "" && o == d.cfg.Legacy
}

func (h *hostState) planDomain(ctx context.Context, a *Domain) (interp.Change, error) {
	ds, err := h.ownDomain(ctx, a)
	if notRunning(err) {
		return interp.Change{Action: a, Op: interp.OpCreate, Note: err.Error() + " yet: planned as if it had no domains"}, nil
	}
	if err != nil {
		return interp.Change{}, err
	}
	if ds == nil {
		c := interp.Change{Action: a, Op: interp.OpCreate}
		if a.DomainType == "" {
			typ, why, err := h.defaultDomainType(ctx)
			if err != nil {
				return interp.Change{}, err
			}
			c.Note = fmt.Sprintf("domain type %s: %s", typ, why)
		}
		return c, nil
	}
	diffs := domainDiffs(a, ds)
	switch {
	case len(diffs) == 0:
		return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
	case !needsRecreate(diffs):
		return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs, Note: "the VM is defined but not running: it will be started"}, nil
	case h.d.cfg.RecreateVMs:
		h.mu.Lock()
		if h.recreated == nil {
			h.recreated = map[string]bool{}
		}
		h.recreated[a.Domain] = true
		h.mu.Unlock()
		return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs,
			Note: "the VM will be destroyed and defined anew (--recreate-vms); its disk is recreated from the image"}, nil
	}
	return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs,
		Note: "changing this means recreating the VM: refused unless --recreate-vms is given"}, nil
}

// domainDiffs compares a declared VM with its live domain: sizes and the
// type (when declared) from the definition, sources from ovnrun's
// metadata, and whether it runs.
func domainDiffs(a *Domain, ds *domainState) []interp.FieldDiff {
	var diffs []interp.FieldDiff
	add := func(key string, old, new any) {
		if old != new {
			diffs = append(diffs, interp.FieldDiff{Key: key, Old: old, New: new})
		}
	}
	live, o := ds.live, ds.live.Owner
	if a.DomainType != "" {
		add("domain_type", live.Type, a.DomainType)
	}
	add("vcpus", live.VCPUs, a.VCPUs)
	add("memory_mib", live.MemoryMiB, a.MemoryMiB)
	add("image", o.Image, a.Image)
	add("sha256", o.SHA256, a.SHA256)
	add("cloud_init", o.CloudInit, a.CloudInit.seedDigest(a.Domain))
	add("disk_gib", o.DiskGiB, a.DiskGiB)
	add("kernel", o.Kernel, a.Kernel)
	add("initrd", o.Initrd, a.Initrd)
	add("cmdline", o.Cmdline, a.Cmdline)
	add("os_variant", o.OSVariant, a.OSVariant)
	if !ds.active {
		add("state", stateName(ds.state), "running")
	}
	return diffs
}

// needsRecreate reports whether diffs hold more than the domain's state.
func needsRecreate(diffs []interp.FieldDiff) bool {
	for _, d := range diffs {
		if d.Key != "state" {
			return true
		}
	}
	return false
}

func stateName(s libvirt.DomainState) string {
	switch s {
	case libvirt.DomainShutoff:
		return "shut off"
	case libvirt.DomainShutdown:
		return "shutting down"
	case libvirt.DomainCrashed:
		return "crashed"
	case libvirt.DomainRunning:
		return "running"
	case libvirt.DomainPaused:
		return "paused"
	}
	return fmt.Sprintf("state %d", s)
}

// applyDomain converges one vm action: define and start a missing domain
// (create), start a stopped one or recreate a differing one when consented
// (update); it returns which it did.
func (h *hostState) applyDomain(ctx context.Context, a *Domain) (interp.Op, error) {
	ds, err := h.ownDomain(ctx, a)
	if err != nil {
		return "", err
	}
	if ds != nil {
		diffs := domainDiffs(a, ds)
		switch {
		case len(diffs) == 0:
			return interp.OpUnchanged, nil
		case !needsRecreate(diffs):
			return interp.OpUpdate, h.do(ctx, func(l *libvirt.Libvirt) error { return l.DomainCreate(ds.dom) })
		case !h.d.cfg.RecreateVMs:
			return "", &RecreateError{Diffs: diffs}
		}
		if err := h.removeDomain(ctx, ds.dom, ds.live.Owner); err != nil {
			return "", err
		}
		h.d.logf(h.name, "destroyed domain %s to define it anew (--recreate-vms)", a.Domain)
		return interp.OpUpdate, h.createDomain(ctx, a)
	}
	return interp.OpCreate, h.createDomain(ctx, a)
}

// createDomain gets the VM's files onto the host, then defines and starts
// its domain.
func (h *hostState) createDomain(ctx context.Context, a *Domain) error {
	spec := domainSpec{Type: a.DomainType, Owner: ownerOf(h.d.cfg.Owner, a), Name: a.Domain,
		VCPUs: a.VCPUs, MemoryMiB: a.MemoryMiB, Cmdline: a.Cmdline}
	var err error
	if a.Kernel != "" {
		if spec.Kernel, err = h.source(ctx, "kernel", a.Kernel); err != nil {
			return err
		}
	}
	if a.Initrd != "" {
		if spec.Initrd, err = h.source(ctx, "initrd", a.Initrd); err != nil {
			return err
		}
	}
	if a.Image != "" || a.DiskGiB > 0 {
		var base string
		if a.Image != "" {
			if base, err = h.source(ctx, "image", a.Image); err != nil {
				return err
			}
			if err := h.checkDigest(ctx, a.Image, base, a.SHA256); err != nil {
				return err
			}
		}
		spec.Disk = h.diskPath(a.Domain)
		if err := h.createDisk(ctx, spec.Disk, base, a.DiskGiB); err != nil {
			return err
		}
		spec.Owner.Disk = spec.Disk
	}
	if a.CloudInit != nil {
		if spec.Seed, err = h.writeSeed(ctx, a); err != nil {
			return err
		}
		spec.Owner.Seed = spec.Seed
	}
	if spec.Type == "" {
		if spec.Type, _, err = h.defaultDomainType(ctx); err != nil {
			return err
		}
	}
	doc, err := domainXML(spec)
	if err != nil {
		return err
	}
	return h.do(ctx, func(l *libvirt.Libvirt) error {
		dom, err := l.DomainDefineXMLFlags(doc, libvirt.DomainDefineValidate)
		if err != nil {
			return fmt.Errorf("define domain %s: %w", a.Domain, err)
		}
		if err := l.DomainCreate(dom); err != nil {
			return fmt.Errorf("start domain %s: %w", a.Domain, err)
		}
		return nil
	})
}

// removeDomain stops and undefines a domain ovnrun owns and removes the
// disk it created for it.
func (h *hostState) removeDomain(ctx context.Context, dom libvirt.Domain, o owner) error {
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		if active, err := l.DomainIsActive(dom); err != nil {
			return err
		} else if active != 0 {
			if err := l.DomainDestroy(dom); err != nil && !isLibvirtErr(err, libvirt.ErrOperationInvalid) {
				return fmt.Errorf("destroy domain %s: %w", dom.Name, err)
			}
		}
		// Remove what libvirt keeps beside the definition; drivers that do
		// not know a flag (the test driver) refuse it, so fewer are tried.
		var err error
		for _, flags := range []libvirt.DomainUndefineFlagsValues{
			libvirt.DomainUndefineManagedSave | libvirt.DomainUndefineSnapshotsMetadata |
				libvirt.DomainUndefineCheckpointsMetadata | libvirt.DomainUndefineNvram,
			libvirt.DomainUndefineManagedSave | libvirt.DomainUndefineSnapshotsMetadata,
			0,
		} {
			if err = l.DomainUndefineFlags(dom, flags); !isLibvirtErr(err, libvirt.ErrInvalidArg, libvirt.ErrNoSupport) {
				break
			}
		}
		if err != nil && !isLibvirtErr(err, libvirt.ErrNoDomain) {
			return fmt.Errorf("undefine domain %s: %w", dom.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range []string{o.Disk, o.Seed} {
		if f == "" {
			continue
		}
		if err := h.removeDisk(ctx, f); err != nil {
			return err
		}
	}
	return nil
}
