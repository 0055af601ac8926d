package check

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/ovnrun/ovnrun/internal/icmpecho"
)

// A ping check sends its echo requests in one of two ways: with a ping
// command where the check runs (a host, over its connection, or a VM,
// through its guest runner), or, from the lab's namespace VMs, from a
// socket ovnrun opens inside the VM (GuestEchoer). Both wait for a first
// reply and then send one round whose loss counts.

// echoer sends a ping check's requests.
type echoer interface {
	// first sends requests until one is answered, at most timeout, and
	// returns how many it sent and the answer's round trip (0 when not
	// known).
	first(ctx context.Context, timeout time.Duration) (int, time.Duration, error)
	// round sends count requests and waits for their replies, at most
	// wait after the last; it returns their statistics and, for an error
	// message, what the sender printed.
	round(ctx context.Context, count int, wait time.Duration) (pingStats, string, error)
	close()
}

// GuestEchoer is implemented by guest runners that can open an echo socket
// inside a VM (the lab's namespace VMs). A ping from such a VM then costs
// no process at all, where a ping command cost one per attempt, and
// counts a reply however late it comes within its wait, where ping gives
// up on a request after a second, or twice the slowest round trip it has
// seen: on a machine loaded by a hundred chassis, a round trip through two
// ovs-vswitchd processes can take seconds.
type GuestEchoer interface {
	GuestEcho(host, vm string, dst netip.Addr) (*icmpecho.Conn, error)
}

// echoer returns how p's requests are sent to dst.
func (d *Driver) echoer(p *Ping, dst string) (echoer, error) {
	if ge, ok := d.guests.(GuestEchoer); ok && p.Guest != "" {
		if addr, err := netip.ParseAddr(dst); err == nil {
			c, err := ge.GuestEcho(p.M.Host, p.Guest, addr)
			if err != nil {
				return nil, fmt.Errorf("ping from %s/%s: %w", p.M.Host, p.Guest, err)
			}
			return &socketEcho{c: c, dst: dst}, nil
		}
	}
	return &commandEcho{d: d, p: p, dst: dst}, nil
}

// roundWait is how long a round waits for replies after its last request:
// ten times the first reply's round trip, at least a second (as ping
// waits) and at most timeout_s.
func roundWait(rtt time.Duration, timeoutS int) time.Duration {
	return min(max(time.Second, 10*rtt), time.Duration(max(timeoutS, 1))*time.Second)
}

// socketEcho sends from a socket in the VM (internal/icmpecho).
type socketEcho struct {
	c   *icmpecho.Conn
	dst string
}

// firstInterval is how often socketEcho repeats an unanswered request
// while it waits for a first reply: often enough that the first reply
// comes soon after the path is made, seldom enough that a hundred checks
// waiting at once do not flood ovn-controller, to which every request goes
// while the path waits for ARP.
const firstInterval = 500 * time.Millisecond

func (e *socketEcho) first(ctx context.Context, timeout time.Duration) (int, time.Duration, error) {
	n, rtt, err := e.c.FirstReply(ctx, firstInterval, timeout)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("no reply from %s within %s: %w", e.dst, timeout, err)
	}
	return n, rtt, err
}

func (e *socketEcho) round(ctx context.Context, count int, wait time.Duration) (pingStats, string, error) {
	st, err := e.c.Round(ctx, count, 200*time.Millisecond, wait)
	if ctx.Err() != nil {
		return pingStats{}, "", ctx.Err()
	}
	out := pingStats{OK: true, Sent: st.Sent, Received: st.Received}
	if st.Received > 0 {
		out.RTTAvg = strconv.FormatFloat(float64(st.Avg())/float64(time.Millisecond), 'f', 3, 64)
	}
	said := fmt.Sprintf("%d requests sent from ovnrun's socket in the VM, each reply awaited up to %s after the last", st.Sent, wait)
	if err != nil { // a request that could not be sent counts as not sent
		said += "; sending stopped: " + err.Error()
	}
	return out, said, nil
}

func (e *socketEcho) close() { e.c.Close() }

// commandEcho runs ping where the check runs.
type commandEcho struct {
	d   *Driver
	p   *Ping
	dst string
}

func (e *commandEcho) first(ctx context.Context, timeout time.Duration) (int, time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for attempt := 1; ; attempt++ {
		r, err := e.d.run(ctx, e.p, pingArgv(1, e.dst, replyWait(attempt)))
		if err != nil {
			return attempt, 0, err
		}
		if r.Status == 0 {
			return attempt, 0, nil
		}
		if time.Now().After(deadline) {
			return attempt, 0, fmt.Errorf("no reply from %s within %s (%d attempts); the last said:\n%s", e.dst, timeout, attempt, indent(r.Stdout+r.Stderr))
		}
		select {
		case <-ctx.Done():
			return attempt, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *commandEcho) round(ctx context.Context, count int, wait time.Duration) (pingStats, string, error) {
	r, err := e.d.run(ctx, e.p, pingArgv(count, e.dst, int(math.Ceil(wait.Seconds()))))
	if err != nil {
		return pingStats{}, "", err
	}
	return parseStats(r.Stdout), r.Stdout + r.Stderr, nil
}

func (e *commandEcho) close() {}

// pingArgv sends count requests to dst with options common to iputils and
// busybox ping, since a VM may only have the latter, waiting w seconds for
// a reply (both wait that long only while none has come; after one, twice
// the slowest round trip).
func pingArgv(count int, dst string, w int) []string {
	return []string{"ping", "-c", strconv.Itoa(count), "-i", "0.2", "-W", strconv.Itoa(w), dst}
}

// replyWait is how long the attempt'th single request for a first reply
// waits for it, in seconds: 1 for the first three, then 2, 4 and at most
// 8. An early request is lost while the path is made (ARP, flows not yet
// installed), and costs little that way; one that keeps going unanswered
// may be answered late, on a machine so loaded that a round trip takes
// seconds, and a ping that waited a second would never see its reply.
func replyWait(attempt int) int {
	if attempt <= 3 {
		return 1
	}
	return min(1<<(attempt-3), 8)
}
