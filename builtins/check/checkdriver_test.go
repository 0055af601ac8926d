package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

const (
	busyboxOK = `PING 172.16.3.253 (172.16.3.253): 56 data bytes
64 bytes from 172.16.3.253: seq=0 ttl=63 time=1.96 ms

--- 172.16.3.253 ping statistics ---
3 packets transmitted, 3 packets received, 0% packet loss
round-trip min/avg/max = 0.073/0.206/0.427 ms
`
	// One reply of three: iputils exits 0, as the seed's outside -> VM
	// ping did on a fresh machine.
	iputilsOneOfThree = `PING 172.16.2.2 (172.16.2.2) 56(84) bytes of data.
64 bytes from 172.16.2.2: icmp_seq=3 ttl=63 time=0.61 ms

--- 172.16.2.2 ping statistics ---
3 packets transmitted, 1 received, 66% packet loss, time 2041ms
rtt min/avg/max/mdev = 0.610/0.610/0.610/0.000 ms
`
	iputilsLost = `PING 172.16.2.2 (172.16.2.2) 56(84) bytes of data.

--- 172.16.2.2 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 2041ms
`
)

// runner answers commands from a script of results, recording the argvs.
type runner struct {
	mu      sync.Mutex
	results []*remote.Result
	argvs   [][]string
}

func (r *runner) next(argv []string) *remote.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.argvs = append(r.argvs, argv)
	res := r.results[0]
	if len(r.results) > 1 {
		r.results = r.results[1:]
	}
	return res
}

func (r *runner) Run(_ context.Context, _ string, cmd remote.Command) (*remote.Result, error) {
	return r.next(cmd.Argv), nil
}

func (r *runner) GuestExec(_ context.Context, _, _ string, argv []string) (*remote.Result, error) {
	if argv[0] == "ip" { // the wait for an address: the VM has one
		return &remote.Result{Stdout: "2: eth0    inet 172.16.2.2/24 scope global eth0\n"}, nil
	}
	return r.next(argv), nil
}

func ping(guest string, dst any, timeout int, expect string) *Ping {
	p := &Ping{Src: "h1/v0", Guest: guest, Dst: dst, Count: 3, TimeoutS: timeout, Expect: expect}
	p.M = interp.Meta{ID: "ping/x", Kind: "ping", Name: "h1/v0 -> x", Mode: interp.Command, Driver: "check", Host: "h1"}
	return p
}

func withMaxLoss(p *Ping, pct int) *Ping {
	p.MaxLoss = pct
	return p
}

// apply plans and applies one check through the engine, with outputs
// holding the dynamic address a future names.
func apply(t *testing.T, d *Driver, p interp.Action) (string, error) {
	t.Helper()
	ctx := interp.WithOutputs(context.Background(), interp.Outputs{"logical_switch_port/h1_v0_vnet2": {"dynamic_addresses.ipv4": "172.16.2.2"}})
	return applyIn(ctx, d, p)
}

// applyIn plans and applies one check with ctx's outputs and returns the
// progress it printed.
func applyIn(ctx context.Context, d *Driver, p interp.Action) (string, error) {
	steps := []*interp.Step{{Name: "verify", Actions: []interp.Action{p}}}
	drivers := map[string]interp.Driver{"check": d}
	planned, err := engine.PlanChanges(ctx, drivers, steps)
	if err != nil {
		return "", err
	}
	var progress strings.Builder
	err = engine.ApplyChanges(ctx, drivers, planned, &progress)
	return progress.String(), err
}

// TestPing: a ping expecting success waits for a first reply with single
// requests, then judges the loss of one round of count requests; one
// expecting failure sends one round.
func TestPing(t *testing.T) {
	unreachable := &remote.Result{Status: 1, Stderr: "ping: sendto: Network is unreachable\n"}
	const (
		probe = "ping -c 1 -i 0.2 -W 1 "
		round = "ping -c 3 -i 0.2 -W 1 "
	)
	for _, tc := range []struct {
		name    string
		p       *Ping
		results []*remote.Result // the last repeats
		want    string           // in the progress output, or in the error
		fails   bool
		argvs   []string // the commands run, when given
	}{
		{"from a host", ping("", interp.NewFuture("logical_switch_port/h1_v0_vnet2", "dynamic_addresses.ipv4"), 10, "success"),
			[]*remote.Result{{Stdout: busyboxOK}},
			": 3 sent, 3 received, 0% loss, rtt avg 0.206 ms from 172.16.2.2\n", false,
			[]string{probe + "172.16.2.2", round + "172.16.2.2"}},
		{"from a VM, retried while its lease is pending", ping("v0", mustIP(t, "172.16.3.253"), 10, "success"),
			[]*remote.Result{unreachable, unreachable, {Stdout: busyboxOK}},
			"3 sent, 3 received, 0% loss, rtt avg 0.206 ms from 172.16.3.253, first reply after 3 attempts", false,
			[]string{probe + "172.16.3.253", probe + "172.16.3.253", probe + "172.16.3.253", round + "172.16.3.253"}},
		{"one reply of three after the first", ping("", mustIP(t, "172.16.2.2"), 10, "success"),
			[]*remote.Result{{Stdout: busyboxOK}, {Stdout: iputilsOneOfThree}},
			"ping h1/v0 -> x: to 172.16.2.2 after the first reply: 3 sent, 1 received, 66% loss, rtt avg 0.610 ms, more than max_loss=0%:\n", true, nil},
		{"one reply of three within max_loss", withMaxLoss(ping("", mustIP(t, "172.16.2.2"), 10, "success"), 67),
			[]*remote.Result{{Stdout: busyboxOK}, {Stdout: iputilsOneOfThree}},
			": 3 sent, 1 received, 66% loss, rtt avg 0.610 ms from 172.16.2.2\n", false, nil},
		{"a round without statistics", ping("", mustIP(t, "172.16.2.2"), 10, "success"),
			[]*remote.Result{{Stdout: busyboxOK}, {Status: -1, Signal: "signal 9"}},
			"to 172.16.2.2 after the first reply: ping printed no statistics, so its loss is unknown", true, nil},
		{"no reply within the timeout", ping("v0", "hp-dl388g8-22", 1, "success"),
			[]*remote.Result{{Status: 1, Stdout: iputilsLost}},
			"no reply from hp-dl388g8-22 within 1s", true, nil},
		{"expected failure", ping("", mustIP(t, "172.16.2.2"), 10, "failure"),
			[]*remote.Result{{Status: 1, Stdout: iputilsLost}},
			"no reply from 172.16.2.2, as expected", false, []string{round + "172.16.2.2"}},
		{"unexpected reply", ping("", mustIP(t, "172.16.2.2"), 10, "failure"),
			[]*remote.Result{{Stdout: busyboxOK}},
			"replies came back from 172.16.2.2, expected none (3 sent, 3 received, 0% loss", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{results: tc.results}
			out, err := apply(t, NewDriver(r, r), tc.p)
			got := out
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tc.fails || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, out, tc.want)
			}
			if tc.argvs != nil {
				var ran []string
				for _, a := range r.argvs {
					ran = append(ran, strings.Join(a, " "))
				}
				if strings.Join(ran, "\n") != strings.Join(tc.argvs, "\n") {
					t.Errorf("commands run:\n%s\nwant\n%s", strings.Join(ran, "\n"), strings.Join(tc.argvs, "\n"))
				}
			}
		})
	}
}

// syncer stands in for the NB driver's SyncChassis: it records, among the
// runner's commands, when it was called, and fails with err.
type syncer struct {
	r       *runner
	err     error
	timeout time.Duration
}

func (s *syncer) SyncChassis(_ context.Context, timeout time.Duration) (time.Duration, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.argvs = append(s.r.argvs, []string{"sync"})
	s.timeout = timeout
	return 0, s.err
}

// TestPingWaitsForChassis: with an NB in the run, the requests whose loss
// counts go out only after every chassis has installed its flows, which
// the first reply may have come before; a chassis that does not confirm
// is noted, and the loss is judged all the same.
func TestPingWaitsForChassis(t *testing.T) {
	probe, round := "ping -c 1 -i 0.2 -W 1 172.16.3.253\n", "ping -c 3 -i 0.2 -W 1 172.16.3.253"
	for _, tc := range []struct {
		name string
		err  error
		want string
		ran  string
	}{
		{"confirmed", nil, "ms from 172.16.3.253, first reply after 2 attempts in ", probe + probe + "sync\n" + round},
		{"not confirmed", errors.New("nb: NB_Global hv_cfg did not reach nb_cfg 7 within 10s"),
			"ms (the chassis' flows were not confirmed: nb: NB_Global hv_cfg did not reach nb_cfg 7 within 10s)\n",
			probe + probe + "sync\n" + round},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{results: []*remote.Result{{Status: 1}, {Stdout: busyboxOK}}}
			s := &syncer{r: r, err: tc.err}
			out, err := apply(t, NewDriver(r, r).WithChassisSync(s), ping("v0", mustIP(t, "172.16.3.253"), 10, "success"))
			if err != nil || !strings.Contains(out, tc.want) || (tc.err == nil) == strings.Contains(out, "not confirmed") {
				t.Fatalf("got error %v, output:\n%s\nwant %q", err, out, tc.want)
			}
			var ran []string
			for _, a := range r.argvs {
				ran = append(ran, strings.Join(a, " "))
			}
			if strings.Join(ran, "\n") != tc.ran {
				t.Errorf("commands run:\n%s\nwant\n%s", strings.Join(ran, "\n"), tc.ran)
			}
			if s.timeout != 10*time.Second {
				t.Errorf("waited at most %s for the chassis, want timeout_s", s.timeout)
			}
		})
	}
}

func TestPingFromVMNeedsGuestRunner(t *testing.T) {
	_, err := apply(t, NewDriver(&runner{}, nil), ping("v0", mustIP(t, "172.16.3.253"), 10, "success"))
	if err == nil || !strings.Contains(err.Error(), "no driver of this run can run commands inside VMs") {
		t.Errorf("err = %v", err)
	}
}

func TestSummary(t *testing.T) {
	for out, want := range map[string]string{
		busyboxOK:   "3 sent, 3 received, 0% loss, rtt avg 0.206 ms",
		iputilsLost: "3 sent, 0 received, 100% loss",
		"":          "exit status 0",
		"rtt min/avg/max/mdev = 0.045/0.061/0.078/0.012 ms\n3 packets transmitted, 2 received, 33% packet loss": "3 sent, 2 received, 33% loss, rtt avg 0.061 ms",
		// Hostile or garbled output: no huge numbers, no statistics taken
		// from another line.
		"99999999999999999999 packets transmitted, 1 received":                       "exit status 0",
		"x 3 packets transmitted, 3 received":                                        "exit status 0",
		"PING a = 1/2/3\n3 packets transmitted, 3 received":                          "3 sent, 3 received, 0% loss",
		"3 packets transmitted, 3 received\nrtt min/avg/max = 1/22222222222222222/3": "3 sent, 3 received, 0% loss",
	} {
		if got := summary(&remote.Result{Stdout: out}); got != want {
			t.Errorf("summary = %q, want %q", got, want)
		}
	}
}

// TestJudgeLoss: the loss of the round after the first reply against
// max_loss, exactly at the bound and around it.
func TestJudgeLoss(t *testing.T) {
	stats := func(sent, received int) pingStats { return pingStats{OK: true, Sent: sent, Received: received} }
	for _, tc := range []struct {
		st         pingStats
		count, max int
		want       string // "" when it passes, else in the error
	}{
		{stats(3, 3), 3, 0, ""},
		{stats(3, 2), 3, 0, "3 sent, 2 received, 33% loss, more than max_loss=0%"},
		{stats(3, 1), 3, 0, "3 sent, 1 received, 66% loss, more than max_loss=0%"},
		{stats(3, 2), 3, 33, "more than max_loss=33%"}, // 33.3% > 33%
		{stats(3, 2), 3, 34, ""},
		{stats(10, 5), 10, 50, ""},
		{stats(10, 5), 10, 49, "10 sent, 5 received, 50% loss, more than max_loss=49%"},
		{stats(10, 0), 10, 100, ""},
		{stats(10, 0), 10, 99, "100% loss"},
		{stats(3, 4), 3, 0, ""}, // received counted twice: never below zero lost
		{stats(2, 2), 3, 50, "ping sent 2 of the 3 requests"},
		{pingStats{}, 3, 100, "ping printed no statistics"},
	} {
		err := judgeLoss(tc.st, tc.count, tc.max)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("judgeLoss(%+v, %d, %d) = %v, want %q", tc.st, tc.count, tc.max, err, tc.want)
		}
	}
}

func mustIP(t *testing.T, s string) interp.IP {
	ip, err := interp.ParseIP(s)
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

func execCheck(status int, contains string) *Exec {
	e := &Exec{Src: "h1/v0", Guest: "v0", Argv: []string{"sh", "-c", "x"}, ExpectStatus: status, StdoutContains: contains, TimeoutS: 1}
	e.M = interp.Meta{ID: "exec/h1/v0", Kind: "exec", Name: "h1/v0: sh", Mode: interp.Command, Driver: "check", Host: "h1"}
	return e
}

// TestExec: exec() runs its argv in the guest as given, again until the
// status and output are as expected, and fails naming both when they
// never are.
func TestExec(t *testing.T) {
	booting := &remote.Result{Status: 124, Stderr: "neither the guest agent nor ovnrun's channel opened"}
	for _, tc := range []struct {
		name    string
		e       *Exec
		results []*remote.Result
		want    string
		fails   bool
	}{
		{"first time", execCheck(0, ""), []*remote.Result{{Stdout: "active\nmore\n"}}, "exit status 0: active", false},
		{"after the guest boots", execCheck(0, "inactive"), []*remote.Result{booting, {Status: 3, Stdout: "activating"}, {Stdout: "inactive"}},
			"exit status 0: inactive, after 3 attempts", false},
		{"expected status", execCheck(1, ""), []*remote.Result{{Status: 1}}, "exit status 1", false},
		{"never as expected", execCheck(0, "active"), []*remote.Result{{Status: 3, Cmd: "sh -c x", Stdout: "failed", Stderr: "oops"}},
			"`sh -c x` did not end with exit status 0 with \"active\" in its output within 1s", true},
		{"killed", execCheck(0, ""), []*remote.Result{{Status: -1, Signal: "signal 9"}}, "the last ended with killed by signal 9", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{results: tc.results}
			out, err := apply(t, NewDriver(r, r), tc.e)
			got := out
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tc.fails || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, out, tc.want)
			}
			if a := r.argvs[0]; strings.Join(a, "|") != "sh|-c|x" {
				t.Errorf("argv %q", a)
			}
		})
	}
	if _, err := apply(t, NewDriver(&runner{}, nil), execCheck(0, "")); err == nil || !strings.Contains(err.Error(), "no driver of this run can run commands inside VMs") {
		t.Errorf("without a guest runner: %v", err)
	}
}

// TestReplyWaits: a first reply's single requests wait a second each at
// first, then longer, for a reply that may come late on a loaded machine;
// a round waits ten round trips of the first reply, within [1 s,
// timeout_s].
func TestReplyWaits(t *testing.T) {
	var got []int
	for attempt := 1; attempt <= 8; attempt++ {
		got = append(got, replyWait(attempt))
	}
	if fmt.Sprint(got) != "[1 1 1 2 4 8 8 8]" {
		t.Errorf("replyWait(1..8) = %v", got)
	}
	for _, tc := range []struct {
		rtt      time.Duration
		timeoutS int
		want     time.Duration
	}{
		{0, 10, time.Second},
		{time.Millisecond, 10, time.Second},
		{500 * time.Millisecond, 10, 5 * time.Second},
		{2 * time.Second, 10, 10 * time.Second},
		{5 * time.Second, 0, time.Second},
	} {
		if got := roundWait(tc.rtt, tc.timeoutS); got != tc.want {
			t.Errorf("roundWait(%s, %d) = %s, want %s", tc.rtt, tc.timeoutS, got, tc.want)
		}
	}
}
