package virt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/internal/lanes"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// pollEvery is how often this domain re-checks what it waits for.
const pollEvery = 100 * time.Millisecond

// The libvirt driver applies vm() and attach() actions: it defines and
// starts libvirt domains and hot-plugs their NICs into the host's OVS
// bridge, talking to each host's libvirtd with go-libvirt through the host's
// connection (SSH direct-streamlocal to the libvirt socket, or the socket
// itself on this machine). Files (images, per-VM disks) are handled with
// commands on the host (curl, qemu-img) and libvirt volume uploads.
//
// Ownership: every domain it defines carries <metadata><ovnrun:owner
// runbook=... action=.../></metadata>, and every NIC it attaches a user
// alias "ua-ovnrun-DEV". It never changes, adopts or destroys a domain
// without its runbook's tag, and never recreates one without consent.

// DriverName is the value of Meta.Driver of vm and vm_nic actions.
const DriverName = "libvirt"

// Defaults of a host's libvirt settings.
const (
	DefaultSocket   = "/var/run/libvirt/libvirt-sock"
	DefaultURI      = "qemu:///system"
	DefaultImageDir = "/var/lib/libvirt/images/ovnrun"
	DefaultPoolName = "ovnrun"
)

// HostConfig is how the driver reaches libvirt and OVS on one host. Empty
// fields take the defaults.
type HostConfig struct {
	// Socket is libvirtd's read-write unix socket on the host.
	Socket string
	// URI is the libvirt connection URI libvirtd opens (qemu:///system;
	// test:///default for libvirt's test driver).
	URI string
	// ImageDir holds downloaded and uploaded images and the per-VM disks;
	// it becomes the libvirt storage pool PoolName.
	ImageDir string
	PoolName string
}

func (h HostConfig) withDefaults() HostConfig {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&h.Socket, DefaultSocket)
	def(&h.URI, DefaultURI)
	def(&h.ImageDir, DefaultImageDir)
	def(&h.PoolName, DefaultPoolName)
	return h
}

// HostConfigs returns the host settings implied by targets (each host's
// libvirt socket, as an inventory gives it), for Config.Hosts.
func HostConfigs(targets map[string]remote.Target) map[string]HostConfig {
	out := map[string]HostConfig{}
	for name, t := range targets {
		out[name] = HostConfig{Socket: t.LibvirtSocket}
	}
	return out
}

// Config configures the libvirt driver.
type Config struct {
	// Sessions are the run's hosts, shared with the host drivers: each
	// host's connection and Open vSwitch database (internal/ovshost);
	// required. The driver holds a share (Retain) until it is closed.
	Sessions *remote.Sessions
	// Hosts holds per-host settings; a host it does not list gets the
	// defaults. PlanDestroy looks for ovnrun's domains on these hosts and
	// on every host an action names.
	Hosts map[string]HostConfig
	// Owner is the runbook tag of the domains this run owns (engine.OwnerOf,
	// as the NB driver's). Legacy, when set, is the tag older ovnrun wrote
	// (the runbook's base name): a domain carrying it is this runbook's
	// while a vm() declares it, and is never pruned otherwise.
	Owner, Legacy string
	// RecreateVMs consents to destroying and recreating a domain whose
	// definition differs from the runbook (its disk is recreated from the
	// image). Without it such a plan is refused before anything changes.
	RecreateVMs bool
	// BridgeWait bounds waiting for the bridge a NIC goes to;
	// DefaultBridgeWait when zero.
	BridgeWait time.Duration
	// WaitGuests makes Apply wait, after starting domains, until their
	// guests have opened the command channel (guestexec.go), up to
	// GuestBootWait: a guest that serves it has booted. The emulated lab
	// sets it for its guest kit, so that the runbook's checks meet guests
	// that are up; a guest that does not serve the channel would fail.
	WaitGuests bool
	// Log receives notes (downloads, uploads); discarded when nil.
	Log io.Writer
}

// Driver is the interp.Driver of vm and vm_nic actions ("libvirt").
type Driver struct {
	cfg Config

	mu    sync.Mutex
	hosts map[string]*hostState
	logMu sync.Mutex
}

var (
	_ interp.Driver      = (*Driver)(nil)
	_ interp.Preflighter = (*Driver)(nil)
)

// NewDriver returns the libvirt driver. Nothing is dialled until an action
// needs a host.
func NewDriver(cfg Config) (*Driver, error) {
	if cfg.Sessions == nil {
		return nil, errors.New("libvirt: no way to reach hosts (Config.Sessions is nil)")
	}
	if cfg.Owner == "" {
		return nil, errors.New("libvirt: no owner tag (Config.Owner is empty)")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	cfg.Sessions.Retain()
	return &Driver{cfg: cfg, hosts: map[string]*hostState{}}, nil
}

// Name implements interp.Driver.
func (d *Driver) Name() string { return DriverName }

// host returns the state of one host, created on first use.
func (d *Driver) host(name string) *hostState {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hosts[name]
	if h == nil {
		h = &hostState{d: d, name: name, cfg: d.cfg.Hosts[name].withDefaults()}
		h.sess, h.sessErr = d.cfg.Sessions.Session(name)
		d.hosts[name] = h
	}
	return h
}

func (d *Driver) logf(host, format string, args ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	fmt.Fprintf(d.cfg.Log, "[%s] "+format+"\n", append([]any{host}, args...)...)
}

// Close implements interp.Driver: it disconnects from each libvirtd, then
// gives back its share of the sessions.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, h := range d.hosts {
		errs = append(errs, h.close())
	}
	return errors.Join(append(errs, d.cfg.Sessions.Release())...)
}

// Plan implements interp.Driver. Hosts are planned concurrently, the
// actions of one host in order.
func (d *Driver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	out := make([]interp.Change, len(actions))
	err := d.lanes(ctx, len(actions), func(i int) string { return actions[i].Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			c, err := h.plan(ctx, actions[i])
			if err != nil {
				return interp.NewActionError(actions[i], err)
			}
			out[i] = c
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (h *hostState) plan(ctx context.Context, a interp.Action) (interp.Change, error) {
	switch a := a.(type) {
	case *Domain:
		return h.planDomain(ctx, a)
	case *Interface:
		return h.planNIC(ctx, a)
	}
	return interp.Change{}, fmt.Errorf("the libvirt driver cannot apply %T", a)
}

// Apply implements interp.Driver. Each change is compared with live state
// again: what an earlier change of the run did (a recreated domain drops
// its NICs) is taken into account. It produces no outputs.
func (d *Driver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	var mu sync.Mutex
	var applied []string
	did := map[string]interp.Op{}
	var started []*Domain // domains created or started, whose guests boot
	err := d.lanes(ctx, len(changes), func(i int) string { return changes[i].Action.Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			c := changes[i]
			if c.Op == interp.OpSkip {
				return nil
			}
			var op interp.Op
			var err error
			switch a := c.Action.(type) {
			case *Domain:
				op, err = h.applyDomain(ctx, a)
			case *Interface:
				op, err = h.applyNIC(ctx, a)
			case *ownedDomain:
				op, err = h.destroyDomain(ctx, a)
			case *ownedNIC:
				op, err = h.detachOwnedNIC(ctx, a)
			default:
				err = fmt.Errorf("the libvirt driver cannot apply %T", a)
			}
			if err != nil {
				return interp.NewActionError(c.Action, err)
			}
			mu.Lock()
			did[c.Action.Meta().ID] = op
			if a, ok := c.Action.(*Domain); ok && d.cfg.WaitGuests {
				started = append(started, a)
			} else {
				applied = append(applied, c.Action.Meta().ID)
			}
			mu.Unlock()
			return nil
		})
	if len(started) > 0 {
		booted, werr := d.waitGuests(ctx, started)
		applied = append(applied, booted...)
		err = errors.Join(err, werr)
	}
	out := interp.Outcomes{}
	for _, id := range applied {
		out.Did(id, did[id])
	}
	if err != nil {
		sort.Strings(applied)
		return out, &interp.ApplyError{Err: err, Applied: applied}
	}
	return out, nil
}

// Preflight implements interp.Preflighter: it refuses a run that would
// recreate a VM without consent, before anything is applied.
func (d *Driver) Preflight(ctx context.Context, changes []interp.Change) error {
	if d.cfg.RecreateVMs {
		return nil
	}
	var errs []error
	for _, c := range changes {
		if a, ok := c.Action.(*Domain); ok && c.Op == interp.OpUpdate && needsRecreate(c.Diffs) {
			errs = append(errs, interp.NewActionError(a, &RecreateError{Diffs: c.Diffs}))
		}
	}
	return errors.Join(errs...)
}

// RecreateError says that a VM differs from its declaration in a way only
// recreating it can fix, and that the user did not consent to that.
type RecreateError struct{ Diffs []interp.FieldDiff }

func (e *RecreateError) Error() string {
	var parts []string
	for _, d := range e.Diffs {
		if d.Key != "state" {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", d.Key, interp.FormatValue(d.Old), interp.FormatValue(d.New)))
		}
	}
	return fmt.Sprintf("the live domain differs from the runbook (%s); ovnrun never recreates a VM silently: "+
		"pass --recreate-vms to destroy it and define it anew (its disk is recreated from the image)", strings.Join(parts, ", "))
}

// lanes runs fn for items by host: the items of one host in order, hosts
// concurrently, bounded by the run's parallelism; a failure stops its
// host's lane only (a *lanes.HostError).
func (d *Driver) lanes(ctx context.Context, n int, hostOf func(int) string, fn func(context.Context, *hostState, int) error) error {
	return lanes.Run(ctx, interp.Parallel(ctx), n, hostOf, func(ctx context.Context, name string, i int) error {
		return fn(ctx, d.host(name), i)
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
