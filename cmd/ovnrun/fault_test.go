package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestMain lets the test binary act as the ovnrun command, so fault tests
// can run it as a separate process and kill it with SIGKILL. A lab host
// runs it as `ovnrun lab impair` (fault "netem"), without that environment.
func TestMain(m *testing.M) {
	if os.Getenv("OVNRUN_TEST_MAIN") == "1" || len(os.Args) > 2 && os.Args[1] == "lab" && os.Args[2] == "impair" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// faultRunbook builds an NB topology in four steps, each one transaction,
// with rows that reference each other across steps (ports on switches of
// earlier steps, DHCP options, router ports with peers).
const faultRunbook = `
def hx(n):
    h = "%x" % n
    return "0" + h if len(h) == 1 else h

def switches(lo, hi):
    for i in range(lo, hi):
        s = ls("ls%d" % i, subnet = "10.1.%d.0/24" % i)
        d = dhcp("10.1.%d.0/24" % i, server_id = "10.1.%d.1" % i, server_mac = "0a:00:00:00:%s:01" % hx(i), lease_time = 3600)
        for j in range(20):
            lsp(s, "p%d-%d" % (i, j), mac = "0a:00:00:01:%s:%s" % (hx(i), hx(j)), ips = "dynamic", dhcpv4 = d)

def routers():
    r = lr("lr0")
    for i in range(0, 60, 3):
        lrp(r, "lr0-ls%d" % i, mac = "0a:00:00:02:%s:00" % hx(i), networks = ["10.1.%d.1/24" % i], peer = "ls%d" % i)

step("one", lambda: switches(0, 20))
step("two", lambda: switches(20, 40))
step("three", lambda: switches(40, 60))
step("four", routers)
`

// nbState is a normalised dump of what ovnrun manages in the NB: one line per
// row, UUIDs left out, sorted. Duplicate rows show as duplicate lines.
func nbState(t *testing.T, nb *daemons.Server) string {
	t.Helper()
	var lines []string
	for _, q := range [][]string{
		{"Logical_Switch", "name,other_config"},
		{"Logical_Switch_Port", "name,addresses,type,options"},
		{"Logical_Router", "name"},
		{"Logical_Router_Port", "name,mac,networks"},
		{"DHCP_Options", "cidr,options"},
	} {
		out, err := nb.NBCtl("--format=csv", "--no-headings", "--columns="+q[1], "list", q[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" {
				lines = append(lines, q[0]+": "+l)
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestKilledApplyResumes kills ovnrun with SIGKILL at random points of an
// apply and resumes it: every trial must end in the state of an uninterrupted
// run, with no duplicate rows.
func TestKilledApplyResumes(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	dir := t.TempDir()
	runbook := filepath.Join(dir, "fault.star")
	if err := os.WriteFile(runbook, []byte(faultRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	ovnrunCmd := func(nb *daemons.Server, journal string, args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], append([]string{"--yes", "--nb", nb.Sock, "--journal", journal}, append(args, runbook)...)...)
		cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
		return cmd
	}

	// The reference: one uninterrupted run, and how long it takes.
	ref := daemons.StartNB(t)
	t0 := time.Now()
	if out, err := ovnrunCmd(ref, filepath.Join(dir, "ref.journal")).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	took := time.Since(t0)
	want := nbState(t, ref)
	if n := strings.Count(want, "Logical_Switch_Port: "); n != 1200+20 {
		t.Fatalf("reference run made %d switch ports, want 1220", n)
	}

	trials := 20
	if testing.Short() {
		trials = 4
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killedMidway := 0
	for trial := range trials {
		nb := daemons.StartNB(t)
		journal := filepath.Join(dir, fmt.Sprintf("trial%d.journal", trial))
		cmd := ovnrunCmd(nb, journal)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Most of a short run is starting up and evaluating; aim the kills
		// at its second half, where steps are applied.
		delay := took/3 + time.Duration(rng.Int64N(int64(took)))
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err != nil {
			// Killed before it finished: count how far it got by the
			// actions its journal records as done.
			b, _ := os.ReadFile(journal)
			if done := strings.Count(string(b), `"type":"action"`); done > 0 {
				killedMidway++
				t.Logf("trial %d: killed after %s with %d actions journaled", trial, delay, done)
			}
		}
		out, rerr := ovnrunCmd(nb, journal, "--resume").CombinedOutput()
		if rerr != nil {
			t.Fatalf("trial %d (killed after %s): resume failed: %v\n%s", trial, delay, rerr, out)
		}
		if got := nbState(t, nb); got != want {
			t.Fatalf("trial %d (killed after %s): state after resume differs from an uninterrupted run:\n%s", trial, delay, lineDiff(want, got))
		}
		// A second resume finds nothing to do.
		out, rerr = ovnrunCmd(nb, journal, "--resume").CombinedOutput()
		if rerr != nil || !strings.Contains(string(out), "No changes.") {
			t.Fatalf("trial %d: second resume: %v\n%s", trial, rerr, out)
		}
		nb.Stop()
	}
	t.Logf("%d trials, %d killed midway (uninterrupted run: %s)", trials, killedMidway, took.Round(time.Millisecond))
	if killedMidway < trials/5 {
		t.Errorf("only %d of %d trials were killed after some actions were done: the test hardly tests resuming", killedMidway, trials)
	}
}

// TestNBRestartMidApply restarts the NB server while ovnrun applies: the
// run either rides it out (libovsdb reconnects) or fails with a clear error;
// after a resume the NB is as an uninterrupted run leaves it.
func TestNBRestartMidApply(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	dir := t.TempDir()
	runbook := filepath.Join(dir, "fault.star")
	if err := os.WriteFile(runbook, []byte(faultRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(nb *daemons.Server, journal string, args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], append([]string{"--yes", "--nb", nb.Sock, "--nb-timeout", "20s", "--journal", journal}, append(args, runbook)...)...)
		cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
		return cmd
	}
	ref := daemons.StartNB(t)
	if out, err := run(ref, filepath.Join(dir, "ref.journal")).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	want := nbState(t, ref)

	// Each trial restarts the NB once the run has journaled its first n
	// actions: after step one, in the middle of the run, near its end.
	midway := 0
	for trial, n := range []int{1, 500, 900} {
		nb := daemons.StartNB(t)
		journal := filepath.Join(dir, fmt.Sprintf("restart%d.journal", trial))
		cmd := run(nb, journal)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(20 * time.Second)
		var err error
		running := true
		for running {
			b, _ := os.ReadFile(journal)
			if strings.Count(string(b), `"type":"action"`) >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("trial %d: the run journaled fewer than %d actions in 20 s:\n%s", trial, n, out.String())
			}
			select {
			case err = <-exited:
				running = false
			case <-time.After(time.Millisecond):
			}
		}
		nb.Restart(t)
		if running {
			midway++
			err = <-exited
		}
		if err != nil && !strings.Contains(out.String(), "nb: ") {
			t.Errorf("trial %d: the failure does not name the NB:\n%s", trial, out.String())
		}
		rout, rerr := run(nb, journal, "--resume").CombinedOutput()
		if rerr != nil {
			t.Fatalf("trial %d: resume after an NB restart failed: %v\n%s\nfirst run (%v):\n%s", trial, rerr, rout, err, out.String())
		}
		if got := nbState(t, nb); got != want {
			t.Fatalf("trial %d: after the restart and resume the NB differs:\n%s", trial, lineDiff(want, got))
		}
		t.Logf("trial %d: restart after %d actions (while the run ran: %v); first run: %v", trial, n, running, err)
	}
	// A run that ended before its restart tests nothing of a restart midway.
	if midway == 0 {
		t.Errorf("every run ended before the NB was restarted")
	}
}

// TestRunLock: while one apply of a runbook holds its lock (here, this test
// process), another cannot start; after an apply is killed, a plain run is
// refused with what to do, and --resume continues.
func TestRunLock(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	dir := t.TempDir()
	runbook := filepath.Join(dir, "fault.star")
	if err := os.WriteFile(runbook, []byte(faultRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := daemons.StartNB(t)
	journal := filepath.Join(dir, "journal")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], append([]string{"--yes", "--nb", nb.Sock, "--journal", journal}, append(args, runbook)...)...)
		cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
		return cmd
	}

	lock, err := engine.AcquireLock(engine.LockPath(journal))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run().CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("a second apply while the lock is held: %v\n%s", err, out)
	}
	lock.Release()

	cmd := run()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// An upper bound on waiting only, so that a run that fails early ends
	// the test with a message instead of hanging it.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		b, _ := os.ReadFile(journal)
		if strings.Contains(string(b), `"type":"action"`) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the run journaled no action within 20s:\n%s", b)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	out, err = run().CombinedOutput()
	if err == nil || !strings.Contains(string(out), "died without finishing") || !strings.Contains(string(out), "--resume") {
		t.Errorf("a plain run after a killed one: %v\n%s", err, out)
	}
	if out, err := run("--resume").CombinedOutput(); err != nil {
		t.Errorf("--resume after a killed run: %v\n%s", err, out)
	}
}
