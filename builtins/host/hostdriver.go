package host

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// HostDriver is the interp.Driver of "host" actions: sh(), service(),
// nb_connection(), sb_connection(), ip_route() and ip_address(). Commands run over the
// host's one SSH connection (or locally); the databases' connections are set
// through the databases themselves.
type HostDriver struct {
	hs     *Hosts
	closed sync.Once
}

var (
	_ interp.Driver       = (*HostDriver)(nil)
	_ interp.OutputReader = (*HostDriver)(nil)
	_ engine.Destroyer    = (*HostDriver)(nil)
)

// Short commands (checks, systemctl) have bounds of their own; sh()
// commands have Config.CommandTimeout.
const (
	checkTimeout   = time.Minute
	serviceTimeout = 5 * time.Minute
)

// Name implements interp.Driver.
func (d *HostDriver) Name() string { return "host" }

// Close implements interp.Driver. The connections close with the second
// of the two drivers.
func (d *HostDriver) Close() (err error) {
	d.closed.Do(func() { err = d.hs.release() })
	return err
}

// ReadOutput implements interp.OutputReader: a host's chassis name.
func (d *HostDriver) ReadOutput(ctx context.Context, id, attr string) (string, error) {
	return d.hs.readOutput(ctx, id, attr)
}

// Plan implements interp.Driver. It runs read-only commands on the hosts:
// the guards of sh(), systemctl is-active, ip route show.
func (d *HostDriver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	out := make([]interp.Change, len(actions))
	err := d.hs.lanes(ctx, len(actions), func(i int) string { return actions[i].Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			c, err := d.plan(ctx, h, actions[i])
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

func (d *HostDriver) plan(ctx context.Context, h *hostState, a interp.Action) (interp.Change, error) {
	switch a := a.(type) {
	case *Shell:
		return d.planShell(ctx, h, a)
	case *Service:
		return d.planService(ctx, h, a)
	case *Route:
		return d.planRoute(ctx, h, a)
	case *IPAddress:
		return d.planAddress(ctx, h, a)
	case *DBConnection:
		return d.planConnection(ctx, h, a)
	}
	return interp.Change{}, fmt.Errorf("the host driver cannot apply %T", a)
}

// Apply implements interp.Driver. Each change is compared with the host
// again first, so that it converges even if the host changed since Plan,
// and reports what that comparison found to do. When a host fails, the
// other hosts' changes are still applied; the error is an *interp.ApplyError
// naming each failed host.
func (d *HostDriver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	var o outcomes
	err := d.hs.lanes(ctx, len(changes), func(i int) string { return changes[i].Action.Meta().Host },
		func(ctx context.Context, h *hostState, i int) error {
			c := changes[i]
			if c.Op == interp.OpSkip {
				return nil
			}
			op, err := d.apply(ctx, h, c)
			if err != nil {
				return interp.NewActionError(c.Action, err)
			}
			o.done(c.Action.Meta().ID, op)
			return nil
		})
	return o.result(err)
}

// apply converges one change and returns what it did.
func (d *HostDriver) apply(ctx context.Context, h *hostState, c interp.Change) (interp.Op, error) {
	switch a := c.Action.(type) {
	case *Shell:
		return d.applyShell(ctx, h, a)
	case *Service:
		return d.applyService(ctx, h, a)
	case *Route:
		return d.applyRoute(ctx, h, a)
	case *IPAddress:
		return d.applyAddress(ctx, h, a)
	case *DBConnection:
		return d.applyConnection(ctx, h, a)
	case *Undo:
		return d.applyUndo(ctx, h, a)
	}
	return "", fmt.Errorf("the host driver cannot apply %T", c.Action)
}

// Run runs a command on a host of the run, over the connection every other
// action on that host uses, for drivers of other domains: the check
// driver's pings from a host. A non-zero exit is not an error here.
func (d *HostDriver) Run(ctx context.Context, host string, cmd remote.Command) (*remote.Result, error) {
	h, err := d.hs.host(host)
	if err != nil {
		return nil, err
	}
	return h.run(ctx, cmd)
}

// run runs a command on the host and returns its result; a non-zero exit
// is not an error here.
func (h *hostState) run(ctx context.Context, cmd remote.Command) (*remote.Result, error) {
	conn, err := h.conn(ctx)
	if err != nil {
		return nil, err
	}
	return conn.Run(ctx, cmd)
}

// output runs a command that must succeed and returns its stdout.
func (h *hostState) output(ctx context.Context, cmd remote.Command) (string, error) {
	conn, err := h.conn(ctx)
	if err != nil {
		return "", err
	}
	return remote.Output(ctx, conn, cmd)
}

func toRemote(c Command) remote.Command { return remote.Command{Argv: c.Argv, Script: c.Script} }

// guard reports whether a guarded sh() is already done, and why.
func (h *hostState) guard(ctx context.Context, s *Shell) (bool, string, error) {
	if s.Creates != "" {
		r, err := h.run(ctx, remote.Argv("test", "-e", s.Creates).WithTimeout(checkTimeout))
		if err != nil {
			return false, "", fmt.Errorf("creates guard: %w", err)
		}
		if r.Status == 0 {
			return true, s.Creates + " exists", nil
		}
	}
	if s.Unless.IsSet() {
		r, err := h.run(ctx, toRemote(s.Unless).WithTimeout(checkTimeout))
		if err != nil {
			return false, "", fmt.Errorf("unless guard: %w", err)
		}
		if r.Status == 0 {
			return true, "`" + s.Unless.String() + "` succeeds", nil
		}
	}
	return false, "", nil
}

// planShell: an unguarded command runs on every apply; a guarded one runs
// unless its guard, evaluated on the host, says it is done.
func (d *HostDriver) planShell(ctx context.Context, h *hostState, s *Shell) (interp.Change, error) {
	c := interp.Change{Action: s, Op: interp.OpRun, Note: s.Guard()}
	if c.Note == "" {
		return c, nil
	}
	done, why, err := h.guard(ctx, s)
	if err != nil {
		return c, err
	}
	if done {
		c.Op, c.Note = interp.OpUnchanged, "does not run: "+why
	}
	return c, nil
}

// applyShell evaluates the guard again: an earlier step may have made it
// say otherwise than when planned.
func (d *HostDriver) applyShell(ctx context.Context, h *hostState, s *Shell) (interp.Op, error) {
	if s.Guard() != "" {
		done, _, err := h.guard(ctx, s)
		if err != nil {
			return "", err
		}
		if done {
			return interp.OpUnchanged, nil
		}
	}
	r, err := h.run(ctx, toRemote(s.Cmd).WithTimeout(d.hs.cfg.CommandTimeout))
	if err != nil {
		return "", err
	}
	return interp.OpRun, r.Err()
}

// serviceState asks systemd whether unit is active: "active", "inactive",
// "failed", "activating"...
func (h *hostState) serviceState(ctx context.Context, unit string) (string, error) {
	r, err := h.run(ctx, remote.Argv("systemctl", "is-active", unit).WithTimeout(checkTimeout))
	if err != nil {
		return "", err
	}
	state := strings.TrimSpace(r.Stdout)
	// is-active exits non-zero for every state but active; only a missing
	// systemctl or an empty answer is an error.
	if r.Status == 127 || state == "" {
		return "", r.Err()
	}
	return state, nil
}

// wantActive says whether a service() state wants the unit running.
func wantActive(state string) bool { return state != "stopped" }

func (d *HostDriver) planService(ctx context.Context, h *hostState, s *Service) (interp.Change, error) {
	c := interp.Change{Action: s, Op: interp.OpRun}
	if s.State == "restarted" {
		c.Note = "restarts on every apply"
		return c, nil
	}
	live, err := h.serviceState(ctx, s.Unit)
	if err != nil {
		return c, err
	}
	want := "inactive"
	if wantActive(s.State) {
		want = "active"
	}
	if (live == "active") == wantActive(s.State) {
		c.Op = interp.OpUnchanged
		return c, nil
	}
	c.Op, c.Diffs = interp.OpUpdate, []interp.FieldDiff{{Key: "state", Old: live, New: want}}
	return c, nil
}

// applyService restarts, or starts or stops a unit not yet in its state:
// run, update or unchanged, as planService would say now.
func (d *HostDriver) applyService(ctx context.Context, h *hostState, s *Service) (interp.Op, error) {
	verb, op := "restart", interp.OpRun
	live, err := h.serviceState(ctx, s.Unit)
	if err != nil {
		return "", err
	}
	if s.State != "restarted" {
		if (live == "active") == wantActive(s.State) {
			return interp.OpUnchanged, nil
		}
		verb, op = "start", interp.OpUpdate
		if !wantActive(s.State) {
			verb = "stop"
		}
	}
	if _, err := h.output(ctx, remote.Argv("systemctl", verb, s.Unit).WithTimeout(serviceTimeout)); err != nil {
		return "", err
	}
	if live != "active" && wantActive(s.State) {
		// ovnrun started it: a destroy stops it again, and only then.
		return op, h.record(ctx, recService, s.Unit, startedAt())
	}
	return op, nil
}

// liveRoute is a route as `ip route show` prints it.
type liveRoute struct{ via, dev string }

func (h *hostState) route(ctx context.Context, r *Route) (*liveRoute, error) {
	family := "-4"
	if !r.Prefix.Is4() {
		family = "-6"
	}
	out, err := h.output(ctx, remote.Argv("ip", family, "route", "show", "exact", r.Prefix.String()).WithTimeout(checkTimeout))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		lr := &liveRoute{}
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				lr.via = f[i+1]
			case "dev":
				lr.dev = f[i+1]
			}
		}
		return lr, nil
	}
	return nil, nil
}

// routeDiffs compares a live route with the declared one; an undeclared
// dev is whatever the kernel chose.
func routeDiffs(r *Route, live *liveRoute) []interp.FieldDiff {
	var diffs []interp.FieldDiff
	if live.via != r.Via.String() {
		diffs = append(diffs, interp.FieldDiff{Key: "via", Old: live.via, New: r.Via.String()})
	}
	if r.Dev != "" && live.dev != r.Dev {
		diffs = append(diffs, interp.FieldDiff{Key: "dev", Old: live.dev, New: r.Dev})
	}
	return diffs
}

func (d *HostDriver) planRoute(ctx context.Context, h *hostState, r *Route) (interp.Change, error) {
	live, err := h.route(ctx, r)
	switch {
	case err != nil:
		return interp.Change{}, err
	case live == nil:
		return interp.Change{Action: r, Op: interp.OpCreate}, nil
	}
	if diffs := routeDiffs(r, live); len(diffs) > 0 {
		return interp.Change{Action: r, Op: interp.OpUpdate, Diffs: diffs}, nil
	}
	return interp.Change{Action: r, Op: interp.OpUnchanged}, nil
}

func (d *HostDriver) applyRoute(ctx context.Context, h *hostState, r *Route) (interp.Op, error) {
	live, err := h.route(ctx, r)
	op := interp.OpCreate
	switch {
	case err != nil:
		return "", err
	case live != nil && len(routeDiffs(r, live)) == 0:
		return interp.OpUnchanged, nil
	case live != nil:
		op = interp.OpUpdate
	}
	argv := []string{"ip", "route", "replace", r.Prefix.String(), "via", r.Via.String()}
	if r.Dev != "" {
		argv = append(argv, "dev", r.Dev)
	}
	if _, err = h.output(ctx, remote.Argv(argv...).WithTimeout(checkTimeout)); err != nil {
		return "", err
	}
	rec := created
	if live != nil {
		rec = was(live.via + " " + live.dev)
	}
	return op, h.record(ctx, recRoute, r.Prefix.String(), rec)
}
