package check

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The check driver runs ping() for real: from a host over the host driver's
// connection, or from a VM through whichever VM driver the run has; tcp()
// in VMs the same way (tcpdriver.go); and
// trace() with ovn-trace on the central host (tracedriver.go). It imports
// internal/remote for commands and their results.

// HostRunner runs commands on the run's hosts; the host driver is one.
type HostRunner interface {
	Run(ctx context.Context, host string, cmd remote.Command) (*remote.Result, error)
}

// GuestRunner runs commands inside VMs. The lab's namespace VMs provide it,
// and so does the libvirt driver, through a virtio-serial channel that its
// guests serve (builtins/virt/guestexec.go).
type GuestRunner interface {
	GuestExec(ctx context.Context, host, vm string, argv []string) (*remote.Result, error)
}

// ChassisSync is implemented by the NB driver of a run that has one: it
// waits until every chassis has installed the flows for what the
// Southbound holds now (ovn-nbctl --wait=hv sync), at most timeout.
type ChassisSync interface {
	SyncChassis(ctx context.Context, timeout time.Duration) (time.Duration, error)
}

// Driver is the interp.Driver of "check" actions.
type Driver struct {
	hosts   HostRunner
	guests  GuestRunner
	chassis ChassisSync

	mu sync.Mutex
	// faultHosts are the hosts of the run's fault() calls, whose records
	// Finish undoes.
	faultHosts map[string]bool
	// watches are the ping_watch() pings running, by action ID, until
	// outage() stops them.
	watches map[string]*watchRun
	// watchHosts are the hosts of the run's ping_watch() calls, whose
	// records of pings still running Finish stops (watchrecord.go).
	watchHosts map[string]bool
	// impair, in an emulated lab, is how a host runs `ovnrun lab impair`
	// where its kernel has no netem (LabDriver); nil elsewhere.
	impair []string
	// preferImpair makes fault "netem" use impair even where the kernel
	// has netem: for tests, which must cover both on any kernel.
	preferImpair bool
}

var (
	_ interp.Driver  = (*Driver)(nil)
	_ interp.Checker = (*Driver)(nil)
)

// NewDriver returns the check driver. guests may be nil: a ping from a VM
// is then refused when planned.
func NewDriver(hosts HostRunner, guests GuestRunner) *Driver {
	return &Driver{hosts: hosts, guests: guests, faultHosts: map[string]bool{}, watches: map[string]*watchRun{},
		watchHosts: map[string]bool{}}
}

// WithChassisSync makes pings wait for s between their first reply and the
// requests whose loss counts (see ping). It returns d.
func (d *Driver) WithChassisSync(s ChassisSync) *Driver {
	d.chassis = s
	return d
}

// Checks implements interp.Checker: checks wait for replies, ports and
// leases, so every host's run at once, beyond --parallel.
func (d *Driver) Checks() bool { return true }

// Name implements interp.Driver.
func (d *Driver) Name() string { return "check" }

// Close implements interp.Driver; the runners belong to other drivers.
func (d *Driver) Close() error { return nil }

// Plan implements interp.Driver: a check runs on every apply.
func (d *Driver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	out := make([]interp.Change, len(actions))
	for i, a := range actions {
		switch a := a.(type) {
		case *Ping:
			if a.Guest != "" && d.guests == nil {
				return nil, noGuestRunner(&a.M)
			}
		case *TCP:
			if d.guests == nil {
				return nil, noGuestRunner(&a.M)
			}
		case *Exec:
			if d.guests == nil {
				return nil, noGuestRunner(&a.M)
			}
		case *PingWatch:
			if a.Guest != "" && d.guests == nil {
				return nil, noGuestRunner(&a.M)
			}
			if d.hosts == nil {
				return nil, fmt.Errorf("ping_watch %s (%s): this run reaches no hosts", a.M.Name, a.M.Pos())
			}
			d.mu.Lock()
			d.watchHosts[a.M.Host] = true
			d.mu.Unlock()
		case *Trace, *Outage:
		case *Fault:
			if d.hosts == nil {
				return nil, fmt.Errorf("fault %s (%s): this run reaches no hosts", a.M.Name, a.M.Pos())
			}
			d.mu.Lock()
			d.faultHosts[a.M.Host] = true
			d.mu.Unlock()
		default:
			return nil, fmt.Errorf("the check driver cannot apply %T", a)
		}
		out[i] = interp.Change{Action: a, Op: interp.OpRun}
	}
	return out, nil
}

// noGuestRunner is the error of a check that runs in a VM in a run that
// cannot run commands there.
func noGuestRunner(m *interp.Meta) error {
	return fmt.Errorf("%s %s (%s): no driver of this run can run commands inside VMs (the lab's namespace VMs can, and libvirt guests that run QEMU's guest agent or serve ovnrun's command channel)",
		m.Kind, m.Name, m.Pos())
}

// Apply implements interp.Driver. A check always runs. Its output
// ResultOutput is what it found ("3 sent, 3 received, 0% loss, rtt avg
// 0.61 ms", or a
// trace's path by chassis), which the progress line shows.
func (d *Driver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	out := interp.Outcomes{}
	for _, c := range changes {
		var (
			result string
			err    error
		)
		switch a := c.Action.(type) {
		case *Ping:
			result, err = d.ping(ctx, a)
		case *TCP:
			result, err = d.tcp(ctx, a)
		case *Trace:
			result, err = d.trace(ctx, a)
		case *Exec:
			result, err = d.exec(ctx, a)
		case *Fault:
			result, err = d.fault(ctx, a)
		case *PingWatch:
			result, err = d.startWatch(ctx, a)
		case *Outage:
			result, err = d.outage(ctx, a)
		default:
			return out, fmt.Errorf("the check driver cannot apply %T", c.Action)
		}
		if err != nil {
			return out, interp.NewActionError(c.Action, err)
		}
		out[c.Action.Meta().ID] = interp.Outcome{Op: interp.OpRun, Outputs: map[string]string{interp.ResultOutput: result}}
	}
	return out, nil
}

// ping runs the check. Expecting success, it waits for the destination
// port to be up and the source VM's address, then sends one request at a
// time until a reply comes back or timeout_s has passed: the first packets
// of a path wait for ARP, so early failures are retried. Then, in a run
// with an NB, it waits until every chassis has installed its flows
// (syncChassis). (Syncing before the first request too was tried: at 128
// hypervisors a sync round wakes every ovn-controller, and twice the
// rounds left the machine at a load of 200.) Then count requests are sent,
// and their loss is judged against max_loss (pingloss.go).
// Expecting failure, one round of count requests must get no reply.
// The requests are sent by whichever echoer the source offers (echo.go).
func (d *Driver) ping(ctx context.Context, p *Ping) (string, error) {
	dst, err := destination(ctx, p.Dst)
	if err != nil {
		return "", err
	}
	// timeout_s is for the path, not for binding the destination's port
	// or for the source VM's DHCP lease.
	if p.Expect == "success" {
		if err := waitPortUp(ctx, p.Dst, p.wait()); err != nil {
			return "", err
		}
	}
	var leased time.Duration
	if p.Guest != "" {
		if leased, err = d.waitAddress(ctx, p.M.Host, p.Guest, dst, p.wait()); err != nil {
			return "", err
		}
	}
	e, err := d.echoer(p, dst)
	if err != nil {
		return "", err
	}
	defer e.close()
	if p.Expect == "failure" {
		st, out, err := e.round(ctx, p.Count, time.Second)
		if err != nil {
			return "", err
		}
		if st.Received > 0 {
			return "", fmt.Errorf("replies came back from %s, expected none (%s)\n%s", dst, st, indent(out))
		}
		return fmt.Sprintf("no reply from %s, as expected", dst), nil
	}
	start := time.Now()
	attempts, rtt, err := e.first(ctx, time.Duration(p.TimeoutS)*time.Second)
	if err != nil {
		return "", err
	}
	waited := time.Since(start)
	unsynced, err := d.syncChassis(ctx, p)
	if err != nil {
		return "", err
	}
	st, out, err := e.round(ctx, p.Count, roundWait(rtt, p.TimeoutS))
	if err != nil {
		return "", err
	}
	if err := judgeLoss(st, p.Count, p.MaxLoss); err != nil {
		return "", fmt.Errorf("to %s after the first reply%s: %w:\n%s", dst, unsynced, err, indent(out))
	}
	s := fmt.Sprintf("%s from %s", st, dst)
	if attempts > 1 {
		s += fmt.Sprintf(", first reply after %d attempts in %s", attempts, waited.Round(10*time.Millisecond))
	}
	if leased >= 100*time.Millisecond {
		s += fmt.Sprintf(" (its address came after %s)", leased.Round(10*time.Millisecond))
	}
	return s + unsynced, nil
}

// syncChassis waits, at most timeout_s, until every chassis has installed
// the flows for what the Southbound holds now. The first reply may have
// come before them: a router that did not know the next hop's MAC holds
// the packet in ovn-controller (pinctrl), sends an ARP request, and sends
// the packet on once the MAC_Binding it learnt is in the Southbound; the
// flow that uses that binding comes after. A request sent in between goes
// to ovn-controller again and is held until its main loop next wakes,
// which can be seconds: lost, for ping. Without an NB in the run there is
// nothing to wait for. A chassis that does not answer (its ovn-controller
// killed) does not fail the check: the loss is judged all the same, and
// the returned note says the flows were not confirmed.
func (d *Driver) syncChassis(ctx context.Context, p *Ping) (string, error) {
	if d.chassis == nil {
		return "", nil
	}
	_, err := d.chassis.SyncChassis(ctx, time.Duration(p.TimeoutS)*time.Second)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return fmt.Sprintf(" (the chassis' flows were not confirmed: %v)", err), nil
	}
	return "", nil
}

// run runs argv where the ping runs: in the guest, or on the host.
func (d *Driver) run(ctx context.Context, p *Ping, argv []string) (*remote.Result, error) {
	limit := time.Duration(p.Count)*200*time.Millisecond + 10*time.Second
	if p.Guest != "" {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		return d.guests.GuestExec(ctx, p.M.Host, p.Guest, argv)
	}
	return d.hosts.Run(ctx, p.M.Host, remote.Argv(argv...).WithTimeout(limit))
}

// destination is the address to ping, resolved when only apply knows it
// (a dynamic address, which waits for ovn-northd).
func destination(ctx context.Context, dst any) (string, error) {
	switch v := dst.(type) {
	case *interp.Future:
		return interp.Resolve(ctx, v)
	case interp.IP:
		return v.String(), nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("destination of type %T", dst)
}

func indent(s string) string {
	s = strings.TrimSpace(s)
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
