package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The host domain's two drivers, "host" (commands, services, the OVN
// databases' connections, routes) and "ovs" (the Open_vSwitch database),
// share one Hosts: one connection per host for the run, and per host the
// database clients tunnelled through it. Both are safe for concurrent
// calls on different hosts; actions of one host are applied in order.

// Config configures the host drivers.
type Config struct {
	// Remote configures SSH: known_hosts, accepting new keys, timeouts.
	Remote remote.Config
	// Inventory, when set, says how to reach the hosts (it overrides the
	// runbook's host() settings); see UseInventory.
	Inventory *remote.Inventory
	// CommandTimeout bounds each sh() command; 10 minutes when zero.
	CommandTimeout time.Duration
	// Parallel bounds how many hosts are planned or applied at once when a
	// driver gets actions of several hosts in one call; 8 when zero.
	Parallel int
	// Log receives notes, each prefixed by its host; discarded when nil.
	Log io.Writer
}

// Hosts is what the host and ovs drivers of one run share.
type Hosts struct {
	cfg   Config
	pool  *remote.Pool
	hosts map[string]*hostState
	log   *prefixLog

	mu   sync.Mutex
	refs int // drivers not yet closed
}

// hostState is one host: how to reach it and its database clients.
type hostState struct {
	hs       *Hosts
	name     string
	target   remote.Target
	systemID string // declared chassis name, "" when read from the host

	mu  sync.Mutex // guards dbs; held while connecting one
	dbs map[dbKind]*dbConn
}

// NewDrivers returns the "host" and "ovs" drivers for the hosts plan
// declares. Nothing is dialled until an action needs a host.
func NewDrivers(plan *interp.Plan, cfg Config) (*HostDriver, *OVSDriver, error) {
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 10 * time.Minute
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Inventory != nil && cfg.Inventory.KnownHosts != "" && cfg.Remote.KnownHosts == "" {
		cfg.Remote.KnownHosts = cfg.Inventory.KnownHosts
	}
	log := &prefixLog{w: cfg.Log}
	cfg.Remote.Log = log
	pool, err := remote.NewPool(cfg.Remote)
	if err != nil {
		return nil, nil, err
	}
	hs := &Hosts{cfg: cfg, pool: pool, hosts: map[string]*hostState{}, log: log, refs: 2}
	for name, t := range Targets(plan, cfg.Inventory) {
		hs.hosts[name] = &hostState{hs: hs, name: name, target: t, systemID: plan.Hosts[name].SystemID, dbs: map[dbKind]*dbConn{}}
	}
	return &HostDriver{hs: hs}, &OVSDriver{hs: hs}, nil
}

// Targets returns how to reach each host of plan: what its host() says,
// overridden by the inventory.
func Targets(plan *interp.Plan, inv *remote.Inventory) map[string]remote.Target {
	out := map[string]remote.Target{}
	for _, h := range plan.HostList() {
		t := remote.Target{Name: h.Name, Local: h.Local, Address: h.Address, Port: h.Port, User: h.User}
		if h.IdentityFile != "" {
			t.IdentityFiles = []string{h.IdentityFile}
		}
		t, _ = inv.Apply(t)
		out[h.Name] = t
	}
	return out
}

// UseInventory rewrites the plan's hosts with the inventory's address,
// port, user and identity file, so that the plan shows the machines ovnrun
// will really reach. It returns the names of declared hosts the inventory
// does not list: they are reached as the runbook says, which is worth a
// warning, since a runbook's defaults usually name another lab.
func UseInventory(plan *interp.Plan, inv *remote.Inventory) (missing []string) {
	if inv == nil {
		return nil
	}
	for _, h := range plan.HostList() {
		t, ok := inv.Apply(remote.Target{Name: h.Name, Local: h.Local, Address: h.Address, Port: h.Port, User: h.User})
		if !ok {
			missing = append(missing, h.Name)
			continue
		}
		h.Local, h.Address, h.Port, h.User = t.Local, t.Address, t.Port, t.User
		if t.Local {
			h.Address, h.Port, h.User, h.IdentityFile = "", 0, "", ""
		} else if h.Port == 0 {
			h.Port = 22
		}
		if inv.Hosts[h.Name].IdentityFile != "" {
			h.IdentityFile = inv.Hosts[h.Name].IdentityFile
		}
	}
	return missing
}

func (hs *Hosts) host(name string) (*hostState, error) {
	h := hs.hosts[name]
	if h == nil {
		return nil, fmt.Errorf("no host %q is declared", name)
	}
	return h, nil
}

// conn returns the host's connection, dialling it on first use.
func (h *hostState) conn(ctx context.Context) (remote.Conn, error) {
	return h.hs.pool.Conn(ctx, h.target)
}

func (h *hostState) logf(format string, args ...any) {
	h.hs.log.printf("[%s] "+format, append([]any{h.name}, args...)...)
}

// release closes everything once both drivers are closed.
func (hs *Hosts) release() error {
	hs.mu.Lock()
	hs.refs--
	last := hs.refs == 0
	hs.mu.Unlock()
	if !last {
		return nil
	}
	var errs []error
	for _, h := range hs.hosts {
		errs = append(errs, h.closeDBs())
	}
	return errors.Join(append(errs, hs.pool.Close())...)
}

// lanes splits items (actions or changes) by host, in order of first use,
// and runs each host's items in order, hosts concurrently (bounded). fn
// handles item i; a failure stops its host's lane but not the others.
func (hs *Hosts) lanes(ctx context.Context, n int, hostOf func(i int) string, fn func(ctx context.Context, h *hostState, i int) error) error {
	var order []string
	byHost := map[string][]int{}
	for i := range n {
		name := hostOf(i)
		if _, ok := byHost[name]; !ok {
			order = append(order, name)
		}
		byHost[name] = append(byHost[name], i)
	}
	errs := make([]error, len(order))
	sem := make(chan struct{}, hs.cfg.Parallel)
	var wg sync.WaitGroup
	for k, name := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			h, err := hs.host(name)
			if err != nil {
				errs[k] = err
				return
			}
			for _, i := range byHost[name] {
				if err := fn(ctx, h, i); err != nil {
					errs[k] = &HostError{Host: name, Err: err}
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// HostError is the failure of one host. When several hosts fail, the
// driver returns them joined (errors.Join); the other hosts' actions were
// still applied.
type HostError struct {
	Host string
	Err  error
}

// Error is the failure alone: every action's name already names its host.
func (e *HostError) Error() string { return e.Err.Error() }
func (e *HostError) Unwrap() error { return e.Err }

// ApplyError is what Apply returns when some hosts failed: the failures,
// and the IDs of the actions that were applied, whose outputs Apply also
// returned, so that the engine can record them.
type ApplyError struct {
	Err     error
	Applied []string
}

func (e *ApplyError) Error() string { return e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }

// AppliedIDs returns the IDs of the actions that were applied.
func (e *ApplyError) AppliedIDs() []string { return e.Applied }

// actionError names the action and where the runbook declared it. A
// failed command's own message drops the host's name, which the action's
// name carries.
func actionError(a interp.Action, err error) error {
	m := a.Meta()
	var detail interface{ Detail() string }
	if errors.As(err, &detail) {
		err = &detailError{detail.Detail(), err}
	}
	return fmt.Errorf("%s %s (%s): %w", m.Kind, m.Name, m.Pos(), err)
}

// detailError is an error shown by its detail, unwrapping to the original.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }

// outcomes collects what concurrent lanes did.
type outcomes struct {
	mu      sync.Mutex
	m       interp.Outcomes
	applied []string
}

func (o *outcomes) add(id string, attrs map[string]string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = interp.Outcomes{}
	}
	o.m.AddOutputs(id, attrs)
}

// done records that the action id was applied with op.
func (o *outcomes) done(id string, op interp.Op) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = interp.Outcomes{}
	}
	o.m.Did(id, op)
	o.applied = append(o.applied, id)
}

// result is what Apply returns for lanes that ended with err.
func (o *outcomes) result(err error) (interp.Outcomes, error) {
	if o.m == nil {
		o.m = interp.Outcomes{}
	}
	if err == nil {
		return o.m, nil
	}
	sort.Strings(o.applied)
	return o.m, &ApplyError{Err: err, Applied: o.applied}
}

// prefixLog writes whole lines from concurrent hosts.
type prefixLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *prefixLog) Write(p []byte) (int, error) {
	l.printf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *prefixLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}
