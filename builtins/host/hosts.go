package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/lanes"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The host domain's two drivers, "host" (commands, services, the OVN
// databases' connections, routes) and "ovs" (the Open_vSwitch database),
// share one Hosts: the run's session of each host (remote.Sessions: one
// connection per host per run, shared with the libvirt driver, and the
// host's Open vSwitch database client, internal/ovshost) and per host the
// OVN database clients tunnelled through it. Both are safe for concurrent
// calls on different hosts; actions of one host are applied in order.

// Config configures the host drivers.
type Config struct {
	// Remote configures SSH: known_hosts, accepting new keys, timeouts.
	Remote remote.Config
	// Inventory, when set, says how to reach the hosts (it overrides the
	// runbook's host() settings, which evaluation already took: SetInventory)
	// and gives what host() cannot say (passwords, run directories).
	Inventory *remote.Inventory
	// CommandTimeout bounds each sh() command; 10 minutes when zero.
	CommandTimeout time.Duration
	// Sessions, when set, are the run's hosts, shared with the other
	// domains (the libvirt driver): one connection per host per run. When
	// nil the drivers open their own, reaching the hosts as Targets says.
	Sessions *remote.Sessions
	// Parallel bounds how many hosts are planned or applied at once when a
	// driver gets actions of several hosts in one call; the run's bound
	// (interp.Parallel) when zero.
	Parallel int
	// Log receives notes, each prefixed by its host; discarded when nil.
	Log io.Writer
	// Owner names the runbook in the undo records the drivers keep on the
	// hosts (undo.go); the runbook's base name when empty.
	Owner string
	// HeldHosts are hosts where the last run changed settings
	// (engine.HeldHosts): a prune or destroy reads their records too,
	// when the runbook still declares them.
	HeldHosts []string
}

// Hosts is what the host and ovs drivers of one run share.
type Hosts struct {
	cfg      Config
	sessions *remote.Sessions
	hosts    map[string]*hostState
	log      *prefixLog

	mu   sync.Mutex
	refs int // drivers not yet closed
}

// hostState is one host: its session (connection and Open vSwitch
// database, shared with the other domains) and its OVN database clients.
type hostState struct {
	hs       *Hosts
	name     string
	sess     *remote.Session
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
	if cfg.Owner == "" {
		cfg.Owner = filepath.Base(plan.Runbook)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Inventory != nil && cfg.Inventory.KnownHosts != "" && cfg.Remote.KnownHosts == "" {
		cfg.Remote.KnownHosts = cfg.Inventory.KnownHosts
	}
	log := &prefixLog{w: cfg.Log}
	sessions := cfg.Sessions
	if sessions == nil {
		cfg.Remote.Log = log
		var err error
		if sessions, err = remote.NewSessions(cfg.Remote, Targets(plan, cfg.Inventory)); err != nil {
			return nil, nil, err
		}
	}
	sessions.Retain()
	hs := &Hosts{cfg: cfg, sessions: sessions, hosts: map[string]*hostState{}, log: log, refs: 2}
	for _, h := range plan.HostList() {
		sess, err := sessions.Session(h.Name)
		if err != nil {
			sessions.Release()
			return nil, nil, err
		}
		hs.hosts[h.Name] = &hostState{hs: hs, name: h.Name, sess: sess, target: sess.Target, systemID: h.SystemID, dbs: map[dbKind]*dbConn{}}
	}
	return &HostDriver{hs: hs}, &OVSDriver{hs: hs}, nil
}

// Targets returns how to reach each host of plan: what its host() says,
// overridden by the inventory (as the engine reaches them).
func Targets(plan *interp.Plan, inv *remote.Inventory) map[string]remote.Target {
	return engine.HostReach{Inventory: inv}.Targets(plan)
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
	return h.sess.Conn(ctx)
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
	return errors.Join(append(errs, hs.sessions.Release())...)
}

// lanes runs fn for items (actions or changes) by host: the items of one
// host in order, hosts concurrently, bounded by Config.Parallel or the
// run's bound. A failure stops its host's lane only (a *lanes.HostError).
func (hs *Hosts) lanes(ctx context.Context, n int, hostOf func(i int) string, fn func(ctx context.Context, h *hostState, i int) error) error {
	limit := hs.cfg.Parallel
	if limit <= 0 {
		limit = interp.Parallel(ctx)
	}
	return lanes.Run(ctx, limit, n, hostOf, func(ctx context.Context, name string, i int) error {
		h, err := hs.host(name)
		if err != nil {
			return err
		}
		return fn(ctx, h, i)
	})
}

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
	return o.m, &interp.ApplyError{Err: err, Applied: o.applied}
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
