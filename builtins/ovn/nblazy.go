package ovn

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// LazyNB is the NB driver of a run that starts the Northbound database
// itself, as the seed does (its server step starts ovn-northd and opens the
// NB's connection, its topology step fills the NB), when the NB cannot be
// reached yet at plan time. It plans NB actions as if the NB were empty,
// saying which step starts it, and connects when the first NB step is
// applied, retrying within the connect timeout while that step's daemons
// come up. Apply recomputes every change from the live NB, so a plan made
// blind converges all the same.
type LazyNB struct {
	cfg       NBConfig
	startedBy string

	mu sync.Mutex
	d  *NBDriver
}

var (
	_ interp.Driver       = (*LazyNB)(nil)
	_ interp.Preflighter  = (*LazyNB)(nil)
	_ interp.OutputReader = (*LazyNB)(nil)
)

// nbProbeTimeout bounds the plan-time attempt of a run that can wait.
const nbProbeTimeout = 2 * time.Second

// ConnectNBOrLater connects to the NB as ConnectNB does. When startedBy
// names a step of the run that starts the NB and the NB does not answer
// now, it returns a *LazyNB instead of failing.
func ConnectNBOrLater(ctx context.Context, cfg NBConfig, startedBy string) (interp.Driver, error) {
	if startedBy == "" {
		return ConnectNB(ctx, cfg)
	}
	if _, err := cfg.connectOptions(); err != nil {
		return nil, err // no waiting makes a missing certificate appear
	}
	probe := cfg
	probe.ConnectTimeout = min(nbProbeTimeout, cfg.ConnectTimeout)
	if probe.ConnectTimeout <= 0 {
		probe.ConnectTimeout = nbProbeTimeout
	}
	d, err := ConnectNB(ctx, probe)
	if err == nil {
		d.cfg.ConnectTimeout = max(cfg.ConnectTimeout, probe.ConnectTimeout)
		return d, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	return &LazyNB{cfg: cfg, startedBy: startedBy}, nil
}

// Name implements interp.Driver.
func (l *LazyNB) Name() string { return driverName }

// driver returns the connected driver, or nil.
func (l *LazyNB) driver() *NBDriver {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d
}

// connect connects, retrying until the connect timeout has passed.
func (l *LazyNB) connect(ctx context.Context) (*NBDriver, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d != nil {
		return l.d, nil
	}
	timeout := l.cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		attempt := l.cfg
		attempt.ConnectTimeout = max(time.Until(deadline), 100*time.Millisecond)
		d, err := ConnectNB(ctx, attempt)
		if err == nil {
			d.cfg.ConnectTimeout = timeout
			l.d = d
			return d, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("%w (step %q was to start it)", err, l.startedBy)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Plan implements interp.Driver: against the NB once connected, else as
// if it were empty.
func (l *LazyNB) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	if d := l.driver(); d != nil {
		return d.Plan(ctx, actions)
	}
	note := fmt.Sprintf("NB not reachable yet: it is started by step %s; planned as if empty", l.startedBy)
	out := make([]interp.Change, len(actions))
	for i, a := range actions {
		out[i] = interp.Change{Action: a, Op: interp.OpCreate, Note: note}
	}
	return out, nil
}

// Preflight implements interp.Preflighter. Before the NB is up there is
// nothing to refuse yet; Apply still refuses rows this runbook did not
// create.
func (l *LazyNB) Preflight(ctx context.Context, changes []interp.Change) error {
	if d := l.driver(); d != nil {
		return d.Preflight(ctx, changes)
	}
	return nil
}

// Apply implements interp.Driver, connecting first.
func (l *LazyNB) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	d, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	return d.Apply(ctx, changes)
}

// ReadOutput implements interp.OutputReader.
func (l *LazyNB) ReadOutput(ctx context.Context, id, attr string) (string, error) {
	d, err := l.connect(ctx)
	if err != nil {
		return "", err
	}
	return d.ReadOutput(ctx, id, attr)
}

// Close implements interp.Driver.
func (l *LazyNB) Close() error {
	if d := l.driver(); d != nil {
		return d.Close()
	}
	return nil
}
