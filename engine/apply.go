package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/internal/lanes"
	"github.com/ovnrun/ovnrun/interp"
)

// The apply engine: it hands each driver the actions whose Meta.Driver names
// it, step by step, and carries outputs (resolved futures) from one action to
// the ones after it. Dry-run and apply share PlanChanges; ApplyChanges only
// adds effects.

// resolver looks futures up in the outputs of the run so far and, during
// apply, asks the driver that produced them.
type resolver struct {
	mu       sync.Mutex // lanes of a step resolve concurrently
	outputs  interp.Outputs
	readers  map[string]interp.OutputReader // action ID -> its driver; nil while planning
	prefixes []interp.PrefixReader
	recorder Recorder // nil unless journaling
}

// merge records outputs a driver returned.
func (r *resolver) merge(out map[string]map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outputs.Merge(out)
}

// Resolve gives f its value: from the outputs of actions already applied,
// or, during apply, from the driver of the action that produces it.
func (r *resolver) Resolve(ctx context.Context, f *interp.Future) (string, error) {
	r.mu.Lock()
	v, ok := r.outputs.Get(f.From, f.Attr)
	rd := r.readers[f.From]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	for _, p := range r.prefixes {
		if rd == nil && r.readers != nil && strings.HasPrefix(f.From, p.OutputPrefix()) {
			rd = p
		}
	}
	if rd == nil {
		return "", &interp.UnresolvedError{Future: f}
	}
	v, err := rd.ReadOutput(ctx, f.From, f.Attr)
	if err != nil {
		return "", err
	}
	r.merge(map[string]map[string]string{f.From: {f.Attr: v}})
	if r.recorder != nil {
		if err := r.recorder.RecordOutputs(f.From, map[string]string{f.Attr: v}); err != nil {
			return "", err
		}
	}
	return v, nil
}

// MissingDriverError says that an action names a driver the run lacks.
type MissingDriverError struct {
	Driver string
	Step   string
	Index  int // 1-based position of the action in its step
	Action interp.Action
}

func (e *MissingDriverError) Error() string {
	m := e.Action.Meta()
	return fmt.Sprintf("no %q driver for action %d of step %q (%s %s at %s)", e.Driver, e.Index, e.Step, m.Kind, m.Name, m.Pos())
}

// PlanChanges asks the drivers for the changes of every action of steps, keeping
// step and declaration order. Each driver is asked once per step, with its
// actions of that step. It changes nothing.
func PlanChanges(ctx context.Context, drivers map[string]interp.Driver, steps []*interp.Step) ([]interp.StepChanges, error) {
	ctx = interp.WithResolver(ctx, &resolver{outputs: interp.OutputsFrom(ctx)})
	for _, s := range steps { // refuse a plan no driver can apply before asking any
		if _, _, err := groupByDriver(drivers, s); err != nil {
			return nil, err
		}
	}
	out := make([]interp.StepChanges, len(steps))
	for i, s := range steps {
		groups, order, err := groupByDriver(drivers, s)
		if err != nil {
			return nil, err
		}
		changes := make([]interp.Change, len(s.Actions))
		for _, name := range order {
			g := groups[name]
			t0 := time.Now()
			cs, err := drivers[name].Plan(ctx, g.actions)
			slog.Debug("planned", "step", s.Name, "driver", name, "actions", len(g.actions), "took", time.Since(t0))
			if err != nil {
				return nil, fmt.Errorf("step %q: %w", s.Name, err)
			}
			if len(cs) != len(g.actions) {
				return nil, fmt.Errorf("step %q: driver %q planned %d changes for %d actions", s.Name, name, len(cs), len(g.actions))
			}
			for j, c := range cs {
				changes[g.index[j]] = c
			}
		}
		out[i] = interp.StepChanges{Step: s, Changes: changes}
	}
	return out, nil
}

type driverGroup struct {
	actions []interp.Action
	index   []int // position of each action in its step
}

// groupByDriver splits a step's actions by driver, in order of first use.
func groupByDriver(drivers map[string]interp.Driver, s *interp.Step) (map[string]*driverGroup, []string, error) {
	groups := map[string]*driverGroup{}
	var order []string
	for i, a := range s.Actions {
		name := a.Meta().Driver
		if drivers[name] == nil {
			return nil, nil, &MissingDriverError{Driver: name, Step: s.Name, Index: i + 1, Action: a}
		}
		g := groups[name]
		if g == nil {
			g = &driverGroup{}
			groups[name] = g
			order = append(order, name)
		}
		g.actions = append(g.actions, a)
		g.index = append(g.index, i)
	}
	return groups, order, nil
}

// DefaultParallel bounds how many hosts a step configures at once.
const DefaultParallel = interp.DefaultParallel

// WithParallel bounds how many hosts ApplyChanges (and the drivers that fan
// out over hosts) configure at once.
func WithParallel(ctx context.Context, n int) context.Context { return interp.WithParallel(ctx, n) }

// ApplyChanges carries out planned changes step by step. Within a step, the
// changes of each target (one host, or the central NB) form a lane applied in
// declaration order; lanes of different hosts run concurrently, bounded by
// WithParallel. A lane hands consecutive changes of one driver to it in one
// Apply call (so all NB changes of a step are one transaction); a command
// goes alone, so the journal knows exactly which commands ran. Before the
// first step every driver that can refuse the run (Preflighter) is asked to.
//
// When a lane fails, the other lanes of the step still finish and are
// recorded; then ApplyChanges stops, naming every failed target.
func ApplyChanges(ctx context.Context, drivers map[string]interp.Driver, planned []interp.StepChanges, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	r := &resolver{outputs: interp.OutputsFrom(ctx), readers: map[string]interp.OutputReader{}}
	r.recorder, _ = ctx.Value(recorderKey{}).(Recorder)
	for _, d := range drivers {
		if p, ok := d.(interp.PrefixReader); ok {
			r.prefixes = append(r.prefixes, p)
		}
	}
	ctx = interp.WithResolver(ctx, r)
	if err := preflight(ctx, drivers, planned); err != nil {
		return err
	}
	// Actions an earlier run applied (skipped now, or found unchanged) are
	// live already: their drivers can read outputs the journal lacks, such
	// as a dynamic address northd assigned after that run recorded them.
	for _, st := range planned {
		for _, c := range st.Changes {
			if c.Op != interp.OpSkip && c.Op != interp.OpUnchanged {
				continue
			}
			if rd, ok := drivers[c.Action.Meta().Driver].(interp.OutputReader); ok {
				r.readers[c.Action.Meta().ID] = rd
			}
		}
	}
	parallel := interp.Parallel(ctx)
	out := &lockedWriter{w: progress}
	t := timings{start: time.Now()}
	defer t.write(out)
	for _, st := range planned {
		t0 := time.Now()
		stepLanes, err := splitLanes(drivers, st)
		if err != nil {
			return err
		}
		// What each change actually did, as its lane reports it: the step's
		// summary counts that, not the plan's guess.
		done := slices.Clone(st.Changes)
		errs := eachLane(parallel, drivers, stepLanes, func(i int) error {
			return r.applyLane(ctx, drivers, stepLanes[i], done, out)
		})
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(out, "Step %s: failed after %s\n", st.Step.Name, roundDuration(time.Since(t0)))
			t.add(st.Step.Name, time.Since(t0), "failed", nil)
			return fmt.Errorf("step %q: %w", st.Step.Name, err)
		}
		fmt.Fprintf(out, "Step %s: %s (%s)\n", st.Step.Name, countLine(done), roundDuration(time.Since(t0)))
		t.add(st.Step.Name, time.Since(t0), countLine(done), done)
	}
	t.done = true
	return nil
}

// eachLane calls fn for every lane, at most parallel at once, except the
// lanes that only check (interp.Checker): those all run at once beside
// them, since they wait rather than configure.
func eachLane(parallel int, drivers map[string]interp.Driver, ls []*lane, fn func(i int) error) []error {
	var checks, others []int
	for i, l := range ls {
		if l.checksOnly(drivers) {
			checks = append(checks, i)
		} else {
			others = append(others, i)
		}
	}
	errs := make([]error, len(ls))
	var wg sync.WaitGroup
	wg.Go(func() {
		for j, err := range lanes.Each(len(checks), len(checks), func(j int) error { return fn(checks[j]) }) {
			errs[checks[j]] = err
		}
	})
	for j, err := range lanes.Each(parallel, len(others), func(j int) error { return fn(others[j]) }) {
		errs[others[j]] = err
	}
	wg.Wait()
	return errs
}

func (l *lane) checksOnly(drivers map[string]interp.Driver) bool {
	for _, b := range l.batches {
		c, ok := drivers[b.driver].(interp.Checker)
		if !ok || !c.Checks() {
			return false
		}
	}
	return true
}

// lane is the changes of one step on one target, cut into batches.
type lane struct {
	host    string // "" for targets that are no host (the NB)
	batches []batch
}

type batch struct {
	driver  string
	changes []interp.Change
	index   []int // position of each change in its step
}

// splitLanes cuts a step into lanes by host, in order of first use.
func splitLanes(drivers map[string]interp.Driver, st interp.StepChanges) ([]*lane, error) {
	var lanes []*lane
	byHost := map[string]*lane{}
	for i, c := range st.Changes {
		m := c.Action.Meta()
		if drivers[m.Driver] == nil {
			return nil, &MissingDriverError{Driver: m.Driver, Step: st.Step.Name, Index: i + 1, Action: c.Action}
		}
		if c.Op == interp.OpSkip {
			continue
		}
		l := byHost[m.Host]
		if l == nil {
			l = &lane{host: m.Host}
			byHost[m.Host] = l
			lanes = append(lanes, l)
		}
		n := len(l.batches)
		alone := m.Mode == interp.Command
		if n == 0 || alone || l.batches[n-1].driver != m.Driver || commandAt(st.Changes, l.batches[n-1].index) {
			l.batches = append(l.batches, batch{driver: m.Driver})
			n++
		}
		l.batches[n-1].index = append(l.batches[n-1].index, i)
	}
	// The changes are copied once each batch's size is known: appended one
	// at a time, a bulk step's 11,000 changes were copied over and over.
	for _, l := range lanes {
		for k := range l.batches {
			b := &l.batches[k]
			b.changes = make([]interp.Change, len(b.index))
			for j, i := range b.index {
				b.changes[j] = st.Changes[i]
			}
		}
	}
	return lanes, nil
}

// commandAt reports whether the changes at index are one command: a batch
// of its own (batch.command before the batch holds its changes).
func commandAt(changes []interp.Change, index []int) bool {
	return len(index) == 1 && changes[index[0]].Action.Meta().Mode == interp.Command
}

// hashWhileApplying starts computing the journal hashes of b's actions,
// which depend on the actions alone, and returns a function that waits for
// them (nil without a journal). It runs beside the driver's Apply: on a bulk
// NB build, the 11,000 hashes cost ~20 ms of CPU, while the transaction
// leaves this process idle for hundreds of ms as the server commits.
func (r *resolver) hashWhileApplying(b batch) func() []string {
	if r.recorder == nil {
		return func() []string { return nil }
	}
	hs := make([]string, len(b.changes))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, c := range b.changes {
			hs[i] = interp.ActionHash(c.Action)
		}
	}()
	return func() []string { <-done; return hs }
}

func (b batch) command() bool {
	return len(b.changes) == 1 && b.changes[0].Action.Meta().Mode == interp.Command
}

// applyLane applies the batches of a lane in order, recording each with
// the op its driver reports, which it also writes into done (the step's
// changes) at the batch's positions.
func (r *resolver) applyLane(ctx context.Context, drivers map[string]interp.Driver, l *lane, done []interp.Change, progress io.Writer) error {
	target := l.host
	if target == "" {
		target = "nb"
	}
	for _, b := range l.batches {
		d := drivers[b.driver]
		t0 := time.Now()
		if b.command() && r.recorder != nil {
			if err := r.recorder.RecordStart(b.changes[0].Action, t0); err != nil {
				return fmt.Errorf("%s: journal: %w", target, err)
			}
		}
		hashes := r.hashWhileApplying(b)
		res, err := d.Apply(ctx, b.changes)
		if err != nil {
			return targetError(target, r.recordPartial(b, hashes(), res, err, t0))
		}
		r.merge(res.Outputs())
		if rd, ok := d.(interp.OutputReader); ok {
			r.mu.Lock()
			for _, c := range b.changes {
				r.readers[c.Action.Meta().ID] = rd
			}
			r.mu.Unlock()
		}
		t1 := time.Now()
		slog.Debug("applied batch", "target", target, "driver", b.driver, "changes", len(b.changes), "took", t1.Sub(t0))
		did := make([]interp.Change, len(b.changes))
		recs := make([]ActionRecord, len(b.changes))
		hs := hashes()
		var errs []error
		for i, c := range b.changes {
			op, err := outcomeOp(b.driver, c, res)
			errs = append(errs, err)
			c.Op = op
			did[i], done[b.index[i]] = c, c
			if r.recorder != nil {
				recs[i] = newActionRecord(c.Action, hs[i], op, res[c.Action.Meta().ID].Outputs, t0, t1)
			}
		}
		if r.recorder != nil {
			if err := r.recorder.Record(recs...); err != nil {
				return fmt.Errorf("%s: journal: %w", target, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return targetError(target, err)
		}
		if l.host != "" {
			line := fmt.Sprintf("  [%s] %s (%s)", l.host, batchLine(b.driver, did), roundDuration(t1.Sub(t0)))
			if found := res[b.changes[0].Action.Meta().ID].Outputs[interp.ResultOutput]; b.command() && found != "" {
				line += ": " + found
			}
			fmt.Fprintln(progress, line)
		}
	}
	return nil
}

func preflight(ctx context.Context, drivers map[string]interp.Driver, planned []interp.StepChanges) error {
	all := map[string][]interp.Change{}
	var order []string
	for _, st := range planned {
		groups, names, err := groupChanges(drivers, st)
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, seen := all[n]; !seen {
				order = append(order, n)
			}
			all[n] = append(all[n], groups[n]...)
		}
	}
	var errs []error
	for _, n := range order {
		if p, ok := drivers[n].(interp.Preflighter); ok {
			if err := p.Preflight(ctx, all[n]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func groupChanges(drivers map[string]interp.Driver, st interp.StepChanges) (map[string][]interp.Change, []string, error) {
	groups := map[string][]interp.Change{}
	var order []string
	for i, c := range st.Changes {
		name := c.Action.Meta().Driver
		if drivers[name] == nil {
			return nil, nil, &MissingDriverError{Driver: name, Step: st.Step.Name, Index: i + 1, Action: c.Action}
		}
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], c)
	}
	return groups, order, nil
}

// targetError names the target an apply failed on, unless the driver's
// error already starts with it (the NB driver's "nb: ..." on target nb).
func targetError(target string, err error) error {
	if strings.HasPrefix(err.Error(), target+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", target, err)
}
