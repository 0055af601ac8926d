package ovn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// pollEvery is how often this domain re-checks what it waits for.
const pollEvery = 20 * time.Millisecond

// Bounds of the driver's waits. They are long because a loaded lab's
// northd can take seconds; a wait that runs out names what it waited for.
const (
	settleTimeout = 20 * time.Second // cache catching up with our own transaction
	nbWaitTimeout = 60 * time.Second // --wait=sb|hv
	outputTimeout = 30 * time.Second // northd assigning dynamic addresses
)

// unsettled is a committed transaction the cache may not show yet.
type unsettled struct {
	applied []interp.Action
	deleted []string
}

// settle waits until the driver's cache shows the transaction just sent:
// every applied action compares unchanged and every deleted row is gone.
// The replica hears of the transaction asynchronously, on its own
// connection, and the next step's plan must see this step's rows.
func (d *NBDriver) settle(ctx context.Context, applied []interp.Action, deleted []string) error {
	var last *rowPlan
	err := poll.Until(ctx, settleTimeout, pollEvery, func() (bool, error) {
		s, err := d.read(ctx)
		if err != nil {
			return false, err
		}
		for _, u := range deleted {
			if s.byUUID[u] != nil {
				return false, nil
			}
		}
		for _, a := range applied {
			rp, err := d.diff(ctx, s, a)
			if err != nil {
				return false, err
			}
			if rp.op() != interp.OpUnchanged {
				last = rp
				return false, nil
			}
		}
		return true, nil
	})
	if err == poll.ErrTimeout {
		what := "deleted rows are still present"
		if last != nil {
			what = fmt.Sprintf("%s %s is still %s", last.want.action.Meta().Kind, last.want.action.Meta().Name, last.op())
			var cols []string
			for _, d := range last.diffs {
				cols = append(cols, d.Key)
			}
			if len(cols) > 0 {
				what += " in " + strings.Join(cols, ", ")
			}
		}
		return fmt.Errorf("nb: the transaction was committed but after %s the NB does not show it (%s): is another client changing these rows?", settleTimeout, what)
	}
	return err
}

// addWait adds, for --wait, the increment of NB_Global nb_cfg and a select
// of its new value to the transaction, and returns the select's index
// (-1 without --wait).
func (t *txn) addWait() (int, error) {
	if t.d.cfg.Wait == "" {
		return -1, nil
	}
	g := t.snap.global
	if g == nil {
		// No ovn-northd has run yet (or it has just started): insert the
		// row with nb_cfg 1 and wait for northd to answer it.
		t.insertGlobal(nil).Row["nb_cfg"] = 1
		t.emit(nil, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: []ovsdb.Condition{}, Columns: []string{"nb_cfg"}})
		return len(t.ops) - 1, nil
	}
	t.emit(nil, ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: ovsdbmodel.WhereUUID(g.uuid),
		Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}})
	t.emit(nil, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: ovsdbmodel.WhereUUID(g.uuid),
		Columns: []string{"nb_cfg"}})
	return len(t.ops) - 1, nil
}

// waitProcessed waits until NB_Global sb_cfg (northd) or hv_cfg (every
// chassis) reaches the nb_cfg our transaction set, like ovn-nbctl --wait,
// and logs the time waited.
func (d *NBDriver) waitProcessed(ctx context.Context, sel ovsdb.OperationResult) error {
	want, err := selectedCfg(sel)
	if err != nil {
		return fmt.Errorf("nb: --wait: %w", err)
	}
	column := d.cfg.Wait + "_cfg"
	start := time.Now()
	err = d.reachCfg(ctx, column, want, nbWaitTimeout)
	waited := time.Since(start).Round(100 * time.Microsecond)
	if err == poll.ErrTimeout {
		who := "ovn-northd"
		if d.cfg.Wait == "hv" {
			who = "ovn-northd or a chassis' ovn-controller"
		}
		return fmt.Errorf("nb: --wait=%s: NB_Global %s did not reach %d within %s: is %s running?", d.cfg.Wait, column, want, nbWaitTimeout, who)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.cfg.Log, "nb: waited %s for %s (%s reached nb_cfg %d)\n", waited, map[string]string{"sb": "ovn-northd", "hv": "the chassis"}[d.cfg.Wait], column, want)
	return nil
}

// selectedCfg reads nb_cfg from the select of NB_Global after its increment.
func selectedCfg(sel ovsdb.OperationResult) (int, error) {
	if len(sel.Rows) != 1 {
		return 0, fmt.Errorf("reading NB_Global nb_cfg returned %d rows", len(sel.Rows))
	}
	switch v := sel.Rows[0]["nb_cfg"].(type) {
	case float64:
		return int(v), nil
	case int:
		return v, nil
	default:
		return 0, fmt.Errorf("NB_Global nb_cfg is %T", v)
	}
}

// reachCfg waits until NB_Global's column (sb_cfg, hv_cfg) is at least
// want; poll.ErrTimeout when timeout passes first.
func (d *NBDriver) reachCfg(ctx context.Context, column string, want int, timeout time.Duration) error {
	return poll.Until(ctx, timeout, pollEvery, func() (bool, error) {
		rep, err := d.currentReplica(ctx)
		if err != nil {
			return false, err
		}
		for _, g := range rep.State().Tables["NB_Global"] {
			got, _ := g.Cols[column].(int)
			return got >= want, nil
		}
		return false, nil
	})
}

// outputs returns the outputs of applied actions that are already known:
// the dynamic addresses northd has assigned to ports this step left
// unchanged, as the snapshot the step was compared with shows them. A port
// the step created or changed gets its addresses from northd after the
// transaction: ReadOutput waits for them, on demand, since only some
// runbooks need them (reading the NB again here would cost a snapshot of
// every row after each large step).
func (d *NBDriver) outputs(s *snapshot, applied []interp.Action, ops map[string]interp.Op) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, a := range applied {
		p, ok := a.(*Row)
		if !ok || p.T != tableSwitchPort || ops[p.M.ID] != interp.OpUnchanged || !hasDynamic(p.strs("addresses")) {
			continue
		}
		if r := s.owned[tableSwitchPort.Name][p.M.ID]; r != nil {
			if v, ok := r.cols["dynamic_addresses"].(*string); ok && v != nil && *v != "" {
				out[p.M.ID] = dynamicOutputs(*v)
			}
		}
	}
	return out
}

func hasDynamic(addresses []string) bool {
	for _, a := range addresses {
		if strings.HasSuffix(a, " dynamic") || a == "dynamic" {
			return true
		}
	}
	return false
}

// dynamicOutputs splits dynamic_addresses ("MAC [IPv4] [IPv6]") into the
// outputs a port's futures name.
func dynamicOutputs(v string) map[string]string {
	out := map[string]string{"dynamic_addresses": v}
	for _, f := range strings.Fields(v)[1:] {
		a, err := netip.ParseAddr(f)
		if err != nil {
			continue
		}
		key := "dynamic_addresses.ipv6"
		if a.Is4() {
			key = "dynamic_addresses.ipv4"
		}
		if _, seen := out[key]; !seen {
			out[key] = f
		}
	}
	return out
}

// ReadOutput implements interp.OutputReader: it waits for ovn-northd to
// assign a port's dynamic addresses, or, for "up", for the port to be up.
func (d *NBDriver) ReadOutput(ctx context.Context, id, attr string) (string, error) {
	switch attr {
	case "dynamic_addresses", "dynamic_addresses.ipv4", "dynamic_addresses.ipv6":
	case "up":
		return d.waitUp(ctx, id)
	default:
		return "", fmt.Errorf("nb: %s has no output %q", id, attr)
	}
	var value string
	var found bool
	err := d.pollPort(ctx, id, outputTimeout, func(r *liveRow) (bool, error) {
		v, ok := r.cols["dynamic_addresses"].(*string)
		if !ok || v == nil || *v == "" {
			return false, nil
		}
		value, found = dynamicOutputs(*v)[attr]
		return true, nil
	})
	if err == poll.ErrTimeout {
		return "", fmt.Errorf("nb: %s: ovn-northd assigned no dynamic addresses within %s: is ovn-northd running, and does the switch have a subnet?", id, outputTimeout)
	}
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("nb: %s: dynamic addresses have no %s part", id, strings.TrimPrefix(attr, "dynamic_addresses."))
	}
	return value, nil
}

// pollPort calls done with this runbook's switch port id, as the NB holds
// it, until done says so, errs or timeout passes (poll.ErrTimeout).
func (d *NBDriver) pollPort(ctx context.Context, id string, timeout time.Duration, done func(*liveRow) (bool, error)) error {
	return poll.Until(ctx, timeout, pollEvery, func() (bool, error) {
		s, err := d.snapshot(ctx)
		if err != nil {
			return false, err
		}
		r := s.owned[tableSwitchPort.Name][id]
		if r == nil {
			return false, fmt.Errorf("nb: %s is not in the NB", id)
		}
		return done(r)
	})
}

// upTimeout bounds the wait for a port to be up when the caller's context
// has no deadline: a lab of many hypervisors on a small machine binds its
// ports over tens of seconds.
const upTimeout = 2 * time.Minute

// waitUp waits until the switch port's up column is true: ovn-northd sets
// it once the port's Port_Binding is up, that is once a chassis has bound
// it and installed its flows; until the context's deadline (a ping's
// wait_s), else upTimeout. An NB whose schema has no up column (before OVN
// 20.06) has nothing to wait for.
func (d *NBDriver) waitUp(ctx context.Context, id string) (string, error) {
	timeout := upTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	err := d.pollPort(ctx, id, timeout, func(r *liveRow) (bool, error) {
		v, known := r.cols["up"]
		if !known {
			return true, nil
		}
		up, ok := v.(*bool)
		return ok && up != nil && *up, nil
	})
	if err == poll.ErrTimeout || errors.Is(err, context.DeadlineExceeded) {
		return "", fmt.Errorf("nb: %s is not up after %s: has a chassis bound it (is the VM's NIC attached, its iface-id set, ovn-controller running)?",
			id, timeout.Round(100*time.Millisecond))
	}
	if err != nil {
		return "", err
	}
	return "true", nil
}
