package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// becomeRunbook writes, as root, into a directory only root may write:
// the host is reached as the non-root user the ssh_config names, through
// its jump host, and its commands run through sudo.
const becomeRunbook = `
hv = host("hv", address = "target", become = True, become_password_env = "LAB_SUDO_PW")
sh(hv, "id -u > %s/who", name = "who")
sh(hv, "cat > %s/stdin", name = "stdin")
`

// TestBecomeThroughJumpHost applies a runbook whose host is an ssh_config
// alias behind a ProxyJump, logged in as a non-root user with become=True:
// the commands run as root, and sudo's password appears nowhere in the
// plan, the progress, the journal or an error.
func TestBecomeThroughJumpHost(t *testing.T) {
	const password = "sudo-Pw-0f-lab-7"
	daemons.Require(t, "sudo")
	l := labhost.New(t)
	jump := l.AddHost("jump")
	target := l.AddHost("target", labhost.Behind(jump), labhost.WithUsers(labhost.User{Name: "lab", Password: password, Sudo: "password"}))
	l.WriteKnownHosts("known_hosts")
	cfg, err := remote.LoadSSHConfig(l.WriteSSHConfig("ssh_config", map[string]string{"target": "lab"}))
	if err != nil {
		t.Fatal(err)
	}
	rootOnly := filepath.Join(target.Dir, "root-only")
	if err := os.Mkdir(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(becomeRunbook, "%s", rootOnly)
	var shown strings.Builder
	run := func(env map[string]string) error {
		r := &labRun{t: t, plan: evaluateWith(t, evaluate(t, src, nil), nil), out: &syncBuffer{}}
		hd, od, err := host.NewDrivers(r.plan, host.Config{Log: r.out, Remote: remote.Config{
			AgentSocket: "none", DialTimeout: 5 * time.Second, Dial: l.Dial, KnownHosts: l.KnownHosts,
			SSHConfig: cfg, Getenv: func(k string) string { return env[k] }}})
		if err != nil {
			t.Fatal(err)
		}
		r.drivers = map[string]interp.Driver{"host": hd, "ovs": od}
		defer hd.Close()
		defer od.Close()
		planned, err := r.apply(nil)
		shown.WriteString(r.out.String())
		journal(t, filepath.Join(l.Dir, "journal"), planned, &shown)
		return err
	}

	if err := run(map[string]string{"LAB_SUDO_PW": password}); err != nil {
		t.Fatalf("apply: %v\n%s", err, shown.String())
	}
	for _, want := range []string{"host hv = root@target:22, commands as root through sudo",
		"[hv] connected to lab@" + target.Addr + ":22 via root@" + jump.Addr + ":22 (commands through sudo)"} {
		if !strings.Contains(shown.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, shown.String())
		}
	}
	checkEq(t, "who ran the command", readFile(t, filepath.Join(rootOnly, "who")), "0\n")
	checkEq(t, "what the command read on stdin", readFile(t, filepath.Join(rootOnly, "stdin")), "")

	err = run(map[string]string{"LAB_SUDO_PW": "not-" + password})
	want := "sh hv/who (lab.star:3:3): hv: sudo refused the password in LAB_SUDO_PW (become_password_env)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if err != nil {
		shown.WriteString(err.Error())
	}
	if strings.Contains(shown.String(), password) {
		t.Errorf("the sudo password is shown:\n%s", shown.String())
	}
}

// journal records the planned actions as a run's journal does and adds the
// file's text to shown.
func journal(t *testing.T, path string, planned []interp.StepChanges, shown *strings.Builder) {
	t.Helper()
	j, err := engine.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin("lab.star"); err != nil {
		t.Fatal(err)
	}
	for _, st := range planned {
		for _, c := range st.Changes {
			if err := j.Record(engine.NewActionRecord(c.Action, c.Op, nil, time.Now(), time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shown.Write(data)
}

// TestTargetsLeaveDefaultsToSSHConfig: only what the runbook or the
// inventory says explicitly reaches the connection; host()'s defaults
// (root, 22) leave room for an ssh_config's User and Port.
func TestTargetsLeaveDefaultsToSSHConfig(t *testing.T) {
	inv, err := remote.ParseInventory("inventory.json", []byte(`{"hosts": {"h2": {"user": "ops", "become": true}}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	plan := evaluateWith(t, evaluate(t, `
host("h0", address = "hv0")
host("h1", address = "hv1", user = "root", port = 22, become = True, become_password_env = "PW")
host("h2", address = "hv2", port = 2222)
`, nil), inv)
	got := host.Targets(plan, inv)
	for name, want := range map[string]remote.Target{
		"h0": {Name: "h0", Address: "hv0"},
		"h1": {Name: "h1", Address: "hv1", User: "root", Port: 22, Become: true, BecomePasswordEnv: "PW"},
		"h2": {Name: "h2", Address: "hv2", User: "ops", Port: 2222, Become: true},
	} {
		g := got[name]
		if g.Address != want.Address || g.User != want.User || g.Port != want.Port || g.Become != want.Become || g.BecomePasswordEnv != want.BecomePasswordEnv {
			t.Errorf("%s: target = %+v, want %+v", name, g, want)
		}
	}
}
