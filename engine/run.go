package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// Options are what a run of a plan is asked to do.
type Options struct {
	Domains []Domain
	// Overrides stand in for registered drivers of the same names (the
	// emulated lab's VMs stand in for libvirt).
	Overrides []DriverSpec

	DryRun  bool   // print the plan, change nothing
	Offline bool   // contact nothing: plan as if every target were empty
	Destroy bool   // plan (and apply) the deletion of what the runbook created
	Output  string // "text" or "json"
	// Text says how a text plan is printed (colour on a terminal).
	Text interp.TextOptions
	Only []string
	From string
	// Owner overrides the runbook's owner identity (OwnerOf); NoPrune
	// keeps what the owner created and the runbook no longer declares.
	Owner   string
	NoPrune bool

	Journal JournalOptions
	Hosts   HostOptions
	// Parallel bounds how many hosts a step configures at once (and how
	// many a driver reaches at once); DefaultParallel when zero.
	Parallel int

	// AfterDestroy, when set, runs after a destroy applied (a lab resets
	// its hosts); DestroyNote says, in the plan, what that does to the
	// hosts (default: they are left as they are).
	AfterDestroy func(progress io.Writer) error
	DestroyNote  string

	// Planned, when set, is handed the changes once planned, before they
	// are printed; an error ends the run there (a saved plan is written,
	// or checked against what the live targets hold now).
	Planned func(plan *interp.Plan, changes []interp.StepChanges) error

	// Confirm, when set, is asked after the plan is printed and before
	// anything is changed, when the plan changes something; an error
	// stops the run there, with nothing changed or journaled.
	Confirm func(context.Context) error

	Stdout, Stderr io.Writer
}

// HostOptions say how to reach hosts (docs/hosts.md).
type HostOptions struct {
	Inventory string // JSON file overriding host()
	// Loaded is that file as the caller already read it (the runbook was
	// evaluated with it); nil to read it here.
	Loaded     *remote.Inventory
	KnownHosts string
	// SSHConfig is the ssh_config file resolving the hosts' addresses:
	// "none" for none; when empty the inventory's, else ~/.ssh/config if
	// there is one.
	SSHConfig      string
	AcceptNewKeys  bool
	SSHTimeout     time.Duration
	CommandTimeout time.Duration
	// Dial, when set, opens the hosts' TCP connections instead of a
	// net.Dialer (tests reach namespace hosts through it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// OptionError is a run refused for its options or its step selection,
// before anything was contacted.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Progress is where a run's progress goes: stdout, unless the plan is
// printed there as JSON.
func (o *Options) Progress() io.Writer {
	if o.Output == "json" {
		return o.Stderr
	}
	return o.Stdout
}

// Run plans the selected steps of plan and prints the plan; unless
// DryRun, it applies it under the run lock, journalling every action. An
// error after changes began says how to resume.
func Run(ctx context.Context, plan *interp.Plan, o Options) error {
	steps, err := plan.Select(o.Only, o.From)
	if err != nil {
		return &OptionError{err}
	}
	o.Journal.partial = len(o.Only) > 0 || o.From != ""
	if o.Parallel < 0 {
		return &OptionError{fmt.Errorf("--parallel %d: want at least 1", o.Parallel)}
	}
	if o.Parallel > 0 {
		ctx = interp.WithParallel(ctx, o.Parallel)
	}
	t, err := newDrivers(o.Domains, o.Overrides)
	if err != nil {
		return err
	}
	if o.Offline {
		return runOffline(plan, steps, t, &o)
	}
	return runLive(ctx, plan, steps, t, &o)
}

// runOffline prints the plan as if every target were empty.
func runOffline(plan *interp.Plan, steps []*interp.Step, t *drivers, o *Options) error {
	changes := interp.OfflineChanges(steps)
	if o.Destroy {
		// What a live destroy would delete after the runbook was applied:
		// the drivers it opens delete what the plan creates.
		needed, err := t.needed(true, steps)
		if err != nil {
			return err
		}
		changes = interp.OfflineDestroy(plan, t.destroyOrder(needed, true), t.destroyOrders(needed))
	}
	if o.Journal.Resume {
		// Offline, a resumed plan shows what the journal says is done; the
		// apply re-verifies each skip against live state.
		j, err := ReadJournal(o.Journal.path(plan))
		if err == nil {
			changes, err = o.Journal.resumePlan(j, steps, changes, false)
		}
		if err != nil {
			return err
		}
	}
	if err := writePlan(o, plan, changes); err != nil {
		return err
	}
	if o.Destroy {
		writeDestroyHosts(o.Progress(), "", true)
	}
	return nil
}

func writePlan(o *Options, plan *interp.Plan, changes []interp.StepChanges) error {
	if o.Output == "json" {
		return interp.WriteJSON(o.Stdout, plan, changes)
	}
	return interp.WriteTextWith(o.Stdout, plan, changes, o.Text)
}

// writePlanPreparing prints the plan while the drivers that can work out
// ahead what the apply's first batches will send (interp.Preparer) do so:
// printing reads the plan only, so the two run side by side. A dry run, a
// resumed run (whose apply reads outputs from the journal) and a plan that
// changes nothing prepare nothing.
func writePlanPreparing(ctx context.Context, o *Options, plan *interp.Plan, planned []interp.StepChanges, ds map[string]interp.Driver) error {
	s := interp.Summarize(planned)
	if o.DryRun || o.Journal.Resume || s.Add+s.Change+s.Destroy+s.Run == 0 {
		return writePlan(o, plan, planned)
	}
	shown := make(chan error, 1)
	go func() { shown <- writePlan(o, plan, planned) }()
	prepareFirst(ctx, ds, planned)
	return <-shown
}

// prepareFirst calls Prepare with the first batch of each lane of the
// first step that applies anything: later batches depend on what earlier
// ones do.
func prepareFirst(ctx context.Context, ds map[string]interp.Driver, planned []interp.StepChanges) {
	for _, st := range planned {
		lanes, err := splitLanes(ds, st)
		if err != nil {
			return
		}
		for _, l := range lanes {
			b := l.batches[0]
			if p, ok := ds[b.driver].(interp.Preparer); ok && !b.command() {
				p.Prepare(ctx, b.changes)
			}
		}
		if len(lanes) > 0 {
			return
		}
	}
}

// writeDestroyHosts says what a destroy does to the hosts.
func writeDestroyHosts(w io.Writer, note string, offline bool) {
	switch {
	case note != "":
	case offline:
		note = "Host settings ovnrun made (services it started, Open vSwitch keys, bridges, addresses, routes) are undone as the hosts record them; offline, they are not read."
	default:
		note = "Host settings are undone only as listed above: what the hosts record that ovnrun did."
	}
	fmt.Fprintln(w, note)
}

// reach returns how the run reaches hosts: the inventory (read unless
// already loaded) and its known_hosts unless one is given.
func (h HostOptions) reach() (HostReach, error) {
	r := HostReach{
		Remote: remote.Config{KnownHosts: h.KnownHosts, AcceptNewHostKeys: h.AcceptNewKeys, DialTimeout: h.SSHTimeout,
			Dial: h.Dial},
		InventoryPath:  h.Inventory,
		CommandTimeout: h.CommandTimeout,
	}
	r.Inventory = h.Loaded
	if r.Inventory == nil && h.Inventory != "" {
		inv, err := remote.LoadInventory(h.Inventory)
		if err != nil {
			return r, err
		}
		r.Inventory = inv
	}
	if r.Remote.KnownHosts == "" && r.Inventory != nil {
		r.Remote.KnownHosts = r.Inventory.KnownHosts
	}
	cfg, err := h.sshConfig(r.Inventory)
	r.Remote.SSHConfig = cfg
	return r, err
}

// sshConfig reads the ssh_config the run resolves addresses with.
func (h HostOptions) sshConfig(inv *remote.Inventory) (*remote.SSHConfig, error) {
	path := h.SSHConfig
	if path == "" && inv != nil {
		path = inv.SSHConfig
	}
	switch path {
	case "none":
		return nil, nil
	case "":
		return remote.DefaultSSHConfig()
	}
	return remote.LoadSSHConfig(path)
}

// Open opens, outside a run, the drivers names need (and what they need),
// for a command that reads through them (ovnrun trace). close closes them.
func Open(ctx context.Context, plan *interp.Plan, o Options, names ...string) (ds map[string]interp.Driver, close func(), err error) {
	t, err := newDrivers(o.Domains, o.Overrides)
	if err != nil {
		return nil, nil, err
	}
	needed := map[string]bool{}
	for _, n := range names {
		if t.specs[n] == nil {
			return nil, nil, fmt.Errorf("no driver %q is registered", n)
		}
		needed[n] = true
		for _, m := range t.specs[n].Needs {
			needed[m] = true
		}
	}
	env, err := newEnv(plan, plan.Steps, &o)
	if err != nil {
		return nil, nil, err
	}
	ds = map[string]interp.Driver{}
	close = func() {
		for _, d := range ds {
			d.Close()
		}
		env.Sessions.Release()
	}
	if _, err := t.open(ctx, env, needed, ds); err != nil {
		close()
		return nil, nil, err
	}
	return ds, close, nil
}

// newEnv returns what the drivers of a run are opened with, among which
// the run's sessions: one per host, shared by every domain, dialled when a
// driver first needs the host. The engine holds a share of them until the
// caller Releases env.Sessions, after closing the drivers.
func newEnv(plan *interp.Plan, steps []*interp.Step, o *Options) (OpenEnv, error) {
	reach, err := o.Hosts.reach()
	if err != nil {
		return OpenEnv{}, err
	}
	rc := reach.Remote
	rc.Log = o.Stderr
	sessions, err := remote.NewSessions(rc, reach.Targets(plan))
	if err != nil {
		return OpenEnv{}, err
	}
	sessions.Retain()
	own := OwnerOf(plan, o.Owner)
	return OpenEnv{Plan: plan, Steps: steps, Destroy: o.Destroy, Owner: own.Owner, LegacyOwner: own.Legacy,
		Hosts: reach, Sessions: sessions, Log: o.Stderr}, nil
}

// runLive plans steps against the live targets, prints the plan and, unless
// DryRun, applies it. With Destroy the plan is the deletion of what the
// runbook created, followed by AfterDestroy.
func runLive(ctx context.Context, plan *interp.Plan, steps []*interp.Step, t *drivers, o *Options) error {
	needed, err := t.needed(o.Destroy, steps)
	if err != nil {
		return err
	}
	env, err := newEnv(plan, steps, o)
	if err != nil {
		return err
	}
	// What the last run left (holds.go): a full apply prunes there, and
	// a destroy destroys there, too.
	prev, err := lastHolds(o.Journal.path(plan))
	if err != nil {
		return err
	}
	env.Held = prev
	sweep := !o.Journal.partial && (o.Destroy || !o.NoPrune)
	ds := map[string]interp.Driver{}
	defer func() {
		for _, d := range ds {
			d.Close()
		}
		env.Sessions.Release()
	}()
	known, err := t.open(ctx, env, needed, ds)
	if err != nil {
		return err
	}
	ctx = interp.WithOutputs(ctx, known)
	// A spec's drivers open together, and each prunes: the host driver
	// undoes the routes of a runbook that now declares only ovs actions.
	removers := maps.Clone(needed)
	for n := range needed {
		for _, m := range t.specs[n].Names {
			removers[m] = true
		}
	}
	if sweep {
		held, err := t.openHeld(ctx, env, t.heldDrivers(prev, removers), ds)
		if err != nil {
			return err
		}
		maps.Copy(removers, held)
	}
	order := t.destroyOrder(removers, false)

	var planned []interp.StepChanges
	removing := PruneStep
	if o.Destroy {
		removing = interp.DestroyStep(plan).Name
		planned, err = planDestroy(ctx, order, ds, plan)
	} else {
		planned, err = PlanChanges(ctx, ds, steps)
	}
	if err != nil {
		return err
	}
	if !o.Destroy && sweep {
		if planned, err = withPrune(ctx, order, ds, plan, planned); err != nil {
			return err
		}
	}
	swept, declared := map[string]bool{}, map[string]bool{}
	if o.Destroy || sweep {
		for _, n := range order {
			swept[n] = true
		}
	}
	if !o.Destroy {
		declared = t.holdsOf(plan.Steps)
	}
	if o.Planned != nil {
		if err := o.Planned(plan, planned); err != nil {
			return err
		}
	}
	if o.Journal.Resume {
		// The plan of a resumed run shows what it skips; it is read without
		// the lock, which the apply below takes before changing anything.
		j, err := ReadJournal(o.Journal.path(plan))
		if err == nil {
			planned, err = o.Journal.resumePlan(j, steps, planned, true)
		}
		if err != nil {
			return err
		}
	}
	progress := o.Progress()
	if err := writePlanPreparing(ctx, o, plan, planned, ds); err != nil {
		return err
	}
	if o.Destroy {
		writeDestroyHosts(progress, o.DestroyNote, false)
	}
	if o.DryRun {
		return nil
	}
	if s := interp.Summarize(planned); s.Add+s.Change+s.Destroy+s.Run == 0 && !o.Destroy && !o.Journal.Resume {
		// Nothing to do: the journal already records this state, and
		// rewriting it (one record per action) would be most of the time
		// a no-op run takes. Unless the last run died: then the run goes
		// on, and is refused, as the journal must be resumed first.
		if quiet, err := o.Journal.lastRunEnded(plan); err != nil {
			return err
		} else if quiet {
			fmt.Fprintln(progress, "\nNothing to apply.")
			return nil
		}
	}
	if s := interp.Summarize(planned); o.Confirm != nil && s.Add+s.Change+s.Destroy+s.Run > 0 {
		if err := o.Confirm(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(progress)
	journal, release, err := o.Journal.open(plan, holdsAfter(declared, prev, swept, planned, removing, false), o.Stderr)
	if err != nil {
		return err
	}
	defer release()
	outputs := journal.Outputs()
	outputs.Merge(known)
	ctx = WithRecorder(interp.WithOutputs(ctx, outputs), journal)
	err = ApplyChanges(ctx, ds, planned, progress)
	err = errors.Join(err, finish(ctx, ds, progress))
	if err == nil && o.Destroy && o.AfterDestroy != nil {
		err = o.AfterDestroy(progress)
	}
	journal.SetHolds(holdsAfter(declared, prev, swept, planned, removing, err == nil))
	if endErr := endRun(ctx, journal, err); endErr != nil {
		return endErr
	}
	if err != nil {
		return fmt.Errorf("%v\nthe journal %s records what was done: run again with --resume to continue", err, journal.Path())
	}
	return nil
}

// Interrupted reports whether err ended a run because ctx was cancelled
// (Ctrl-C, SIGTERM).
func Interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled)
}

// Finisher is implemented by drivers that undo, when a run's apply ends
// (passed, failed or interrupted), what they changed only for the run's
// duration: fault() in builtins/check. It runs before the journal records
// the run's end and before any driver closes.
type Finisher interface {
	Finish(ctx context.Context, log io.Writer) error
}

// finish runs the drivers' Finish, in name order, even once ctx is
// cancelled: an interrupted run must still undo its faults.
func finish(ctx context.Context, ds map[string]interp.Driver, log io.Writer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(ds)) {
		if f, ok := ds[n].(Finisher); ok {
			errs = append(errs, f.Finish(ctx, log))
		}
	}
	return errors.Join(errs...)
}
