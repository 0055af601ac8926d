package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/interp"
)

// `ovnrun trace` before it reaches any host: its command line, and how it
// finds SRC and DST in the runbook. TestLabTraceCaptures runs it for real.

func TestTraceCommandLine(t *testing.T) {
	t.Setenv("OVNRUN_LAB_DIR", filepath.Join(t.TempDir(), "labs"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trace"}, exitUsage, "want RUNBOOK SRC DST, got 0 arguments"},
		{[]string{"trace", "runbooks/dgp.star", "h1/v0"}, exitUsage, "want RUNBOOK SRC DST, got 2 arguments"},
		{[]string{"trace", "--lab", "--inventory", "x.json", "runbooks/dgp.star", "h1/v0", "172.16.3.253"}, exitUsage, "--lab supplies the inventory"},
		{[]string{"trace", "runbooks/dgp.star", "h1/v0", "outside"}, exitUsage, "DST outside is a host: give one of its addresses"},
		{[]string{"trace", "runbooks/dgp.star", "nope", "172.16.3.253"}, exitUsage, "SRC nope: the runbook declares no logical switch port or VM of that name"},
		{[]string{"trace", "runbooks/dgp.star", "v0", "172.16.3.253"}, exitUsage, "several hosts have a VM of that name (h0/v0, h1/v0)"},
		{[]string{"trace", "runbooks/dgp.star", "172.16.2.2", "172.16.3.253"}, exitUsage, "no logical switch port of the runbook has this static address"},
		{[]string{"trace", "runbooks/dgp.star", "h1/v0", "172.16.3.253", "--protocol", "sctp"}, exitUsage, `protocol "sctp": want icmp, tcp or udp`},
		{[]string{"trace", "runbooks/dgp.star", "h1/v0", "172.16.3.253", "--dst-port", "22"}, exitUsage, "dst_port= goes with protocol tcp or udp"},
		{[]string{"trace", "runbooks/dgp.star", "h1/v0", "172.16.3.253", "--central", "h9"}, exitUsage, "--central h9: the runbook declares no such host"},
		{[]string{"trace", "--lab", "runbooks/dgp.star", "h1/v0", "172.16.3.253"}, exitFailure, "lab dgp is not up: build it with ovnrun --lab runbooks/dgp.star"},
		{[]string{"trace", "runbooks/nope.star", "a", "b"}, exitRunbook, "cannot read runbook"},
	} {
		stdout, stderr, code := ovnrun(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("ovnrun %s: exit %d, stderr %q, stdout %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, stdout, tc.code, tc.want)
		}
	}
	if stdout, stderr, code := ovnrun(t, "trace", "--help"); code != exitOK || !strings.Contains(stdout, "Usage:\n  ovnrun trace") || stderr != "" {
		t.Errorf("trace --help: exit %d, stdout %q, stderr %q; want exit 0 and the help on stdout", code, stdout, stderr)
	}
}

// TestTraceArgs resolves SRC and DST as ovnrun trace does: by port name, by
// VM (its NIC on a logical port with an IPv4 address), by a port's static
// address, and for DST by address.
func TestTraceArgs(t *testing.T) {
	t.Chdir(repoRoot)
	var ev *interp.Eval
	plan, code := evaluateRunbook(context.Background(), "runbooks/dgp-dnat.star", nil, nil, defaultEvalLimits(), nil, io.Discard, func(e *interp.Eval) { ev = e })
	if plan == nil {
		t.Fatalf("evaluate: exit %d", code)
	}
	for arg, want := range map[string]string{
		"h1_v1_eth0":  "h1_v1_eth0 h1_v1_eth0",
		"h1/v0":       "h1/v0 h1_v0_eth0",
		"v1":          "h1/v1 h1_v1_eth0",
		"172.16.2.10": "h1_v0_eth0 h1_v0_eth0",
	} {
		e, err := check.TraceArg(plan, ev, arg, false)
		if err != nil {
			t.Errorf("SRC %s: %v", arg, err)
		} else if got := e.Label + " " + e.Port.PortName(); got != want {
			t.Errorf("SRC %s = %q, want %q", arg, got, want)
		}
	}
	if e, err := check.TraceArg(plan, ev, "172.16.3.253", true); err != nil || e.IP.String() != "172.16.3.253" || e.Port != nil {
		t.Errorf("DST 172.16.3.253 = %+v, %v", e, err)
	}
}
