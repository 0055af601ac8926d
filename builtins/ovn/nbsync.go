package ovn

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
)

// SyncChassis waits until every chassis has installed the flows for what
// the Southbound holds now, as `ovn-nbctl --wait=hv sync` does: it
// increments NB_Global nb_cfg and waits, at most timeout, until hv_cfg
// reaches it. ovn-northd passes nb_cfg on to the Southbound after what came
// before it, and an ovn-controller reports it only once the flows computed
// from that Southbound are in its switch; hv_cfg is the lowest report.
// Southbound rows the chassis wrote themselves before the call (the
// MAC_Binding a first ping taught them) are covered too. It returns the
// time waited.
//
// Concurrent callers share one increment (syncFlights): a step's checks
// all sync at once, and each increment is waited for by every chassis.
func (d *NBDriver) SyncChassis(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	return d.syncs.do(ctx, timeout, d.syncChassisOnce)
}

// syncChassisOnce is one increment of nb_cfg and the wait for hv_cfg.
func (d *NBDriver) syncChassisOnce(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	s, err := d.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	if s.global == nil {
		return 0, fmt.Errorf("nb: the NB has no NB_Global row yet: is ovn-northd running?")
	}
	ep := d.db.Endpoint()
	if ep == "" {
		return 0, fmt.Errorf("nb: not connected to %s", strings.Join(d.cfg.Endpoints, ","))
	}
	where := ovsdbmodel.WhereUUID(s.global.uuid)
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: where,
			Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
		{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: where, Columns: []string{"nb_cfg"}},
	}
	res, err := ovsdbmodel.Transact(ctx, ep, d.db.Schema().Name, ops, d.opts...)
	if err != nil {
		return 0, fmt.Errorf("nb: incrementing nb_cfg: %w", err)
	}
	for _, r := range res {
		if r.Error != "" {
			return 0, fmt.Errorf("nb: incrementing nb_cfg: %s", strings.TrimSpace(r.Error+": "+r.Details))
		}
	}
	if len(res) < 2 {
		return 0, fmt.Errorf("nb: incrementing nb_cfg: %d results for 2 operations", len(res))
	}
	want, err := selectedCfg(res[1])
	if err != nil {
		return 0, fmt.Errorf("nb: %w", err)
	}
	err = d.reachCfg(ctx, "hv_cfg", want, timeout)
	if err == poll.ErrTimeout {
		return time.Since(start), fmt.Errorf("nb: NB_Global hv_cfg did not reach nb_cfg %d within %s: is every chassis' ovn-controller running?", want, timeout.Round(time.Millisecond))
	}
	return time.Since(start), err
}

// SyncChassis is NBDriver.SyncChassis, connecting first.
func (l *LazyNB) SyncChassis(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	d, err := l.connect(ctx)
	if err != nil {
		return 0, err
	}
	return d.SyncChassis(ctx, timeout)
}

// syncFlights lets concurrent SyncChassis calls share one sync. A caller
// joins the next sync to start, never one already under way: that one
// incremented nb_cfg before the caller asked, so it may not cover what the
// caller saw (a MAC_Binding its first reply taught a chassis). Callers that
// ask while a sync runs all share the one after it.
type syncFlights struct {
	mu      sync.Mutex
	next    *syncFlight // the sync the next caller joins; nil: none yet
	running bool        // a goroutine is running syncs
	// syncs counts the syncs run, for tests.
	syncs int
}

// syncFlight is one sync and its outcome, shared by its callers.
type syncFlight struct {
	done chan struct{}
	// ctx is cancelled once every caller has given up waiting: the first
	// caller's values, not its cancellation, since the others still wait.
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration // the longest of its callers'
	callers int           // still waiting
	err     error
}

// do runs fn, or joins the next run of it, and returns once that run
// has ended or ctx is done, with the time this caller waited.
func (f *syncFlights) do(ctx context.Context, timeout time.Duration, fn func(context.Context, time.Duration) (time.Duration, error)) (time.Duration, error) {
	start := time.Now()
	f.mu.Lock()
	fl := f.next
	if fl == nil {
		fl = &syncFlight{done: make(chan struct{})}
		fl.ctx, fl.cancel = context.WithCancel(context.WithoutCancel(ctx))
		f.next = fl
	}
	fl.timeout = max(fl.timeout, timeout)
	fl.callers++
	if !f.running {
		f.running = true
		go f.run(fn)
	}
	f.mu.Unlock()
	select {
	case <-fl.done:
		return time.Since(start), fl.err
	case <-ctx.Done():
		f.mu.Lock()
		if fl.callers--; fl.callers == 0 {
			fl.cancel()
		}
		f.mu.Unlock()
		return time.Since(start), ctx.Err()
	}
}

// run runs fn for the waiting syncs one after another until none is waiting.
func (f *syncFlights) run(fn func(context.Context, time.Duration) (time.Duration, error)) {
	for {
		f.mu.Lock()
		fl := f.next
		f.next = nil
		if fl == nil {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.syncs++
		f.mu.Unlock()
		_, fl.err = fn(fl.ctx, fl.timeout)
		fl.cancel()
		close(fl.done)
	}
}
