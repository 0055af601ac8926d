package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/testtime"
	"github.com/ovnrun/ovnrun/interp"
)

const twoHosts = `
h0 = host("h0", address = "177.1.1.1")
h1 = host("h1", address = "177.1.1.2")

def work():
    sh(h0, "echo ok > $HOME/ok", name = "ok")
    sh(h0, ["sh", "-c", "echo second >> $HOME/ok"], name = "second")
    sh(h1, "echo 'this fails' >&2; exit 3", name = "fail")
    sh(h1, "touch $HOME/never", name = "after")

step("work", work)
`

// TestFailingHostAndSecrets applies commands on two hosts, one logging in
// with a password from an environment variable: first with a wrong
// password, then with the right one while the other host fails. Failures
// name their host, the other host's work is done, and no password or key
// appears in anything printed.
func TestFailingHostAndSecrets(t *testing.T) {
	const password, wrong = "pw-R1ght-0n3-h0", "pw-Wr0ng-0n3-h0"
	l := labhost.New(t)
	h0 := l.AddHost("h0", labhost.WithRootPassword(password))
	h1 := l.AddHost("h1")
	l.WriteKnownHosts("known_hosts")
	inventory := l.Inventory(map[string]map[string]any{"h0": {"identity_file": nil, "password_env": "LAB_H0_PASSWORD"}})
	var shown strings.Builder

	// Wrong password: both hosts fail, each named.
	r := newRun(t, l, evaluate(t, twoHosts, nil), inventory, map[string]string{"LAB_H0_PASSWORD": wrong}, "")
	_, err := r.apply(nil)
	shown.WriteString(r.out.String())
	for _, want := range []string{"host h0 = root@" + h0.Addr + ":22", "sh h0/ok (lab.star:6:7): host h0 (root@" + h0.Addr + ":22): authentication failed: offered the password in $LAB_H0_PASSWORD",
		"sh h1/fail (lab.star:8:7): `echo 'this fails' >&2; exit 3` exited with status 3\nstderr:\n    this fails"} {
		if err == nil || !strings.Contains(r.out.String(), want) {
			t.Errorf("run with a wrong password: err = %v; output lacks %q:\n%s", err, want, r.out)
		}
	}

	// Right password: h0 is done, h1 fails at its first command.
	r = newRun(t, l, evaluate(t, twoHosts, nil), inventory, map[string]string{"LAB_H0_PASSWORD": password}, "")
	planned, err := r.apply(nil)
	shown.WriteString(r.out.String())
	if err == nil || strings.Contains(err.Error(), "h0") || !strings.Contains(err.Error(), "sh h1/fail (lab.star:8:7)") {
		t.Errorf("err = %v, want h1's failure only", err)
	}
	checkEq(t, "h0's file", readFile(t, filepath.Join(h0.Dir, "home", "ok")), "ok\nsecond\n")
	if _, err := os.Stat(filepath.Join(h1.Dir, "home", "never")); err == nil {
		t.Error("h1 went on after its failed command")
	}

	// The driver on its own, given both hosts at once: the error says
	// which actions were applied.
	_, err = r.drivers["host"].Apply(context.Background(), planned[0].Changes)
	shown.WriteString(err.Error())
	var ae *interp.ApplyError
	if !errors.As(err, &ae) || !slices.Equal(ae.AppliedIDs(), []string{"sh/h0/ok", "sh/h0/second"}) {
		t.Errorf("err = %#v, want an ApplyError with h0's actions applied", err)
	}

	secrets := []string{password, wrong}
	key, _ := os.ReadFile(l.ClientKey)
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	for _, s := range secrets {
		if strings.Contains(shown.String(), s) {
			t.Errorf("a secret is shown: %q in\n%s", s, shown.String())
		}
	}
}

// TestUnreachableHost: a host that does not answer fails the plan within
// the dial timeout, with a message naming it.
func TestUnreachableHost(t *testing.T) {
	l := labhost.New(t)
	l.AddHost("h0")
	l.WriteKnownHosts("known_hosts")
	// Failing to connect costs no more than a run that connects and runs
	// a command, beyond the dial timeout.
	cost := testtime.Measure(t, "a run of one command on h0", func() {
		r := newRun(t, l, evaluate(t, `h0 = host("h0", address = "177.1.1.1")
sh(h0, "true", name = "t")
`, nil), l.Inventory(nil), nil, "")
		if _, err := r.apply(nil); err != nil {
			t.Fatal(err)
		}
	})
	inventory := l.Inventory(map[string]map[string]any{"h0": {"address": l.UnusedAddr()}})
	r := newRun(t, l, evaluate(t, `h0 = host("h0", address = "177.1.1.1")
service(h0, "openvswitch")
`, nil), inventory, nil, "")
	start := time.Now()
	_, err := r.apply(nil)
	took := time.Since(start)
	want := "service h0/openvswitch (lab.star:2:8): host h0 (root@" + l.UnusedAddr() + ":22): cannot connect within 2s"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v after %s, want %q", err, took, want)
	}
	cost.Within(t, "failed", took, 2*time.Second)
	var plan *interp.Plan = r.plan
	if plan.Hosts["h0"].Address != l.UnusedAddr() {
		t.Errorf("the plan shows h0 at %s, not the inventory's address", plan.Hosts["h0"].Address)
	}
}
