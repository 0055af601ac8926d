package check

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// tcpGuests answers tcp()'s guest commands by the script they run: listeners
// from listen, connection rounds from a script of results (the last one
// repeated). It records each call as "listen h0/v1", "connect h0/v0" or
// "stop h0/v1 PGID".
type tcpGuests struct {
	mu     sync.Mutex
	listen func(vm string) *remote.Result
	rounds []*remote.Result
	calls  []string
}

func (g *tcpGuests) Run(context.Context, string, remote.Command) (*remote.Result, error) {
	return nil, fmt.Errorf("tcp() ran a command on a host")
}

func (g *tcpGuests) GuestExec(_ context.Context, host, vm string, argv []string) (*remote.Result, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	where := host + "/" + vm
	switch argv[2] {
	case listenScript:
		g.calls = append(g.calls, "listen "+where)
		return g.listen(where), nil
	case connectScript:
		g.calls = append(g.calls, "connect "+where)
		r := g.rounds[0]
		if len(g.rounds) > 1 {
			g.rounds = g.rounds[1:]
		}
		return r, nil
	case stopScript:
		g.calls = append(g.calls, "stop "+where+" "+argv[len(argv)-1])
		return &remote.Result{}, nil
	}
	return nil, fmt.Errorf("unknown command %q", argv)
}

// listenAll starts a listener in every VM, process group 100 + its index
// in the call order.
func listenAll() func(string) *remote.Result {
	n := 0
	return func(string) *remote.Result {
		n++
		return &remote.Result{Stdout: fmt.Sprintf("%d\n", 100+n)}
	}
}

func tcpCheck(dst any, expect string, count int, listeners ...string) *TCP {
	t := &TCP{Src: "h0/v0", Guest: "v0", Dst: dst, Port: 8080, Count: count, TimeoutS: 1, Expect: expect}
	for _, l := range listeners {
		h, vm, _ := strings.Cut(l, "/")
		t.Listeners = append(t.Listeners, VMRef{Label: l, Host: h, VM: vm})
	}
	t.M = interp.Meta{ID: "tcp/x", Kind: "tcp", Name: "h0/v0 -> x:8080", Mode: interp.Command, Driver: "check", Host: "h0"}
	return t
}

// round is connectScript's output for connections that ended as ends
// say: a listener's name, "refused", "timeout" or another error.
func round(ends ...string) *remote.Result {
	var b strings.Builder
	for _, e := range ends {
		switch e {
		case "refused":
			b.WriteString("tcp 1 nc: can't connect to remote host (10.0.0.9): Connection refused\n")
		case "timeout":
			b.WriteString("tcp 1 nc: timed out\n")
		case "unreachable":
			b.WriteString("tcp 1 nc: can't connect to remote host (10.0.0.9): No route to host\n")
		default:
			b.WriteString("tcp 0 " + e + "\n")
		}
	}
	return &remote.Result{Stdout: b.String()}
}

func repeat(n int, s string) []string { return strings.Split(strings.Repeat(s+",", n-1)+s, ",") }

func TestTCP(t *testing.T) {
	vip := mustIP(t, "172.16.1.100")
	// Resolved by apply() to 172.16.2.2, as a VM's address would be.
	v1 := interp.NewFuture("logical_switch_port/h1_v0_vnet2", "dynamic_addresses.ipv4")
	for _, tc := range []struct {
		name   string
		t      *TCP
		listen func(string) *remote.Result
		rounds []*remote.Result
		want   string // in the progress output, or in the error
		fails  bool
		calls  string
	}{
		{"to a VM, which listens", tcpCheck(v1, "success", 1, "h0/v1"), listenAll(),
			[]*remote.Result{round("h0/v1")},
			"1/1 connected; h0/v1 1\n", false, "listen h0/v1, connect h0/v0, stop h0/v1 101"},
		{"spread over backends", tcpCheck(vip, "success", 30, "h0/v1", "h1/v2", "h1/v3"), listenAll(),
			[]*remote.Result{round(append(append(repeat(11, "h0/v1"), repeat(9, "h1/v2")...), repeat(10, "h1/v3")...)...)},
			"30/30 connected; h0/v1 11, h1/v2 9, h1/v3 10\n", false,
			"listen h0/v1, listen h1/v2, listen h1/v3, connect h0/v0, stop h0/v1 101, stop h1/v2 102, stop h1/v3 103"},
		{"a backend never answers: retried, then stopped all the same", tcpCheck(vip, "success", 3, "h0/v1", "h1/v2"), listenAll(),
			[]*remote.Result{round("h0/v1", "h0/v1", "h0/v1")},
			"3/3 connected; h0/v1 3, h1/v2 0; no answer from h1/v2", true, ""},
		{"refused while the listener starts, then answered", tcpCheck(v1, "success", 2, "h0/v1"), listenAll(),
			[]*remote.Result{round("refused", "refused"), round("h0/v1", "h0/v1")},
			"2/2 connected; h0/v1 2, after 2 attempts", false, "listen h0/v1, connect h0/v0, connect h0/v0, stop h0/v1 101"},
		{"an answer not from a listener is shown", tcpCheck(vip, "success", 2, "h0/v1"), listenAll(),
			[]*remote.Result{round("h0/v1", "SSH-2.0-OpenSSH_9.2")},
			`2/2 connected; h0/v1 1, "SSH-2.0-OpenSSH_9.2" 1` + "\n", false, ""},
		{"refused, as expected", tcpCheck(vip, "refused", 1), nil,
			[]*remote.Result{round("refused")},
			"0/1 connected, 1 refused, as expected", false, "connect h0/v0"},
		{"timed out, as expected", tcpCheck(v1, "timeout", 2, "h0/v1"), listenAll(),
			[]*remote.Result{round("timeout", "timeout")},
			"0/2 connected, 2 timed out, as expected", false, "listen h0/v1, connect h0/v0, stop h0/v1 101"},
		{"refused where a drop was expected: not retried", tcpCheck(v1, "timeout", 1, "h0/v1"), listenAll(),
			[]*remote.Result{round("refused"), round("timeout")},
			"0/1 connected, 1 refused; expected every connection timed out", true, "listen h0/v1, connect h0/v0, stop h0/v1 101"},
		{"one connection got through", tcpCheck(v1, "failure", 3, "h0/v1"), listenAll(),
			[]*remote.Result{round("timeout", "h0/v1", "unreachable")},
			"1/3 connected, 1 timed out, 1 failed (nc: can't connect to remote host (10.0.0.9): No route to host); h0/v1 1; expected every connection failed", true, ""},
		{"failure either way", tcpCheck(vip, "failure", 3), nil,
			[]*remote.Result{round("timeout", "refused", "unreachable")},
			"0/3 connected, 1 refused, 1 timed out, 1 failed", false, ""},
		{"a second listener fails to start: the first is stopped", tcpCheck(vip, "success", 1, "h0/v1", "h1/v2"),
			func(vm string) *remote.Result {
				if vm == "h1/v2" {
					return &remote.Result{Status: 1, Stderr: "port 8080 is already in use\n"}
				}
				return &remote.Result{Stdout: "101\n"}
			},
			nil, "start a listener on port 8080 in VM h1/v2: exit status 1\n    port 8080 is already in use", true,
			"listen h0/v1, listen h1/v2, stop h0/v1 101"},
		{"fewer connections reported than made", tcpCheck(vip, "refused", 2), nil,
			[]*remote.Result{round("refused")},
			"1 of 2 connections from h0/v0 reported their end", true, ""},
		{"the guest does not answer", tcpCheck(vip, "refused", 1), nil,
			[]*remote.Result{{Status: 124, Stderr: "no answer on channel"}},
			"the connections from h0/v0 did not run: exit status 124", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &tcpGuests{listen: tc.listen, rounds: tc.rounds}
			out, err := apply(t, NewDriver(g, g), tc.t)
			got := out
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tc.fails || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, out, tc.want)
			}
			calls := strings.Join(g.calls, ", ")
			if tc.calls != "" && calls != tc.calls {
				t.Errorf("calls:\n %s\nwant\n %s", calls, tc.calls)
			}
			// Whatever happened, the listeners started are stopped last.
			if tc.calls == "" && tc.listen != nil {
				var stops []string
				for i, l := range tc.t.Listeners {
					stops = append(stops, fmt.Sprintf("stop %s %d", l.Label, 101+i))
				}
				if !strings.HasSuffix(calls, strings.Join(stops, ", ")) {
					t.Errorf("calls:\n %s\nwant them to end with\n %s", calls, strings.Join(stops, ", "))
				}
			}
		})
	}
}

// TestTCPStopsListenersWhenCancelled: an interrupted run still stops the
// listeners it started.
func TestTCPStopsListenersWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	g := &tcpGuests{listen: listenAll(), rounds: []*remote.Result{round("refused")}}
	d := NewDriver(g, g)
	// Cancelled once the listener is up: the round never gets answered.
	g.listen = func(vm string) *remote.Result {
		cancel()
		return &remote.Result{Stdout: "101\n"}
	}
	tc := tcpCheck(mustIP(t, "172.16.1.100"), "success", 1, "h0/v1")
	tc.TimeoutS = 3600
	_, err := d.tcp(ctx, tc)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v, want context canceled", err)
	}
	if calls := strings.Join(g.calls, ", "); calls != "listen h0/v1, connect h0/v0, stop h0/v1 101" {
		t.Errorf("calls = %s", calls)
	}
}

func TestTCPNeedsGuestRunner(t *testing.T) {
	_, err := apply(t, NewDriver(&runner{}, nil), tcpCheck(mustIP(t, "10.0.0.9"), "success", 1))
	if err == nil || !strings.Contains(err.Error(), "tcp h0/v0 -> x:8080 (") || !strings.Contains(err.Error(), "no driver of this run can run commands inside VMs") {
		t.Errorf("err = %v", err)
	}
}

func TestParseRound(t *testing.T) {
	for out, want := range map[string]string{
		"":                     "0/3 connected",
		"tcp 0 h0/v1\ntcp 0\n": "2/3 connected; h0/v1 1, \"\" 1",
		"tcp 0 a b  c\n":       "1/3 connected; h0/v1 0, \"a b  c\" 1",
		"x tcp 0 h0/v1\n":      "0/3 connected",
		"tcp 99999 h0/v1\n":    "0/3 connected",
		"tcp 2 Connection refused" + strings.Repeat("x", 300): "0/3 connected, 1 refused",
		"tcp 0 " + strings.Repeat("y", 300):                   "1/3 connected; h0/v1 0, \"" + strings.Repeat("y", 200) + "\" 1",
		"tcp 1 nc: timed out\n":                               "0/3 connected, 1 timed out",
	} {
		r := parseRound(out)
		if got := r.describe(tcpCheck(nil, "success", 3, "h0/v1")); got != want {
			t.Errorf("describe(%q) = %q, want %q", out, got, want)
		}
	}
}
