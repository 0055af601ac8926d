package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/poll"
)

// clusterPause is a step put before the topology step of the test's copy of
// runbooks/dgp-cluster.star: it says it has started (the file %[1]s) and
// waits until the test lets it go on (the file %[2]s), so that the test can
// stop the NB leader before the topology step's transaction is sent.
const clusterPause = `
def pause():
    sh(h2, "touch %[1]s; while [ ! -e %[2]s ]; do sleep 0.05; done", name = "pause")

step("pause", pause)
`

// TestLabClusterLeaderKilled runs runbooks/dgp-cluster.star (the seed with a
// 3-member RAFT NB and SB) and kills the NB leader while the topology step's
// transaction is in flight: the leader is stopped (SIGSTOP) before the step,
// and killed once ovnrun's request waits in its socket, unread. The run must retry
// the step on the new leader and finish, pings included; every row exists
// once; the next run starts the killed member again, and the one after it
// plans no change.
func TestLabClusterLeaderKilled(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "dgp-cluster")
	dir := filepath.Dir(path)
	started, goOn := filepath.Join(dir, "pause-started"), filepath.Join(dir, "pause-go-on")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	paused, m := replaceOnce(string(src), `step("topology", topology)`, fmt.Sprintf(clusterPause, started, goOn)+`step("topology", topology)`)
	// The trace reads the databases of one member (h2), which this run
	// may kill; the pings check the data path after the failover. The
	// runs after it trace on a follower.
	text, n := replaceOnce(paused, "    trace(vms[", "    # trace(vms[")
	_, c := replaceOnce(paused, "central = h2)", "")
	if n+m+c != 3 {
		t.Fatalf("runbooks/dgp-cluster.star: the test no longer finds its trace (%d), its central (%d) or the topology step (%d)", n, c, m)
	}
	writeFile(t, path, text)

	// The central first: the NB driver of the next run then connects when
	// it starts (not lazily in the topology step), so the topology step's
	// request in flight is its transaction, not its connecting.
	ovnrunProcess(t, "--lab", "--only", "vms,compute,server", path)
	cmd := exec.Command(os.Args[0], "--lab", path)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var runErr error
	done := make(chan struct{})
	go func() { runErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	waitUntil(t, "the pause step to start", done, &out, func() bool {
		_, err := os.Stat(started)
		return err == nil
	})
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	leader, pid := nbLeader(t, l)
	t.Logf("the NB leader is %s's ovsdb-server, pid %d", leader.Name, pid)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goOn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// ovnrun's request, from the control namespace, waits unread in the
	// stopped leader's socket: the transaction is in flight.
	waitUntil(t, "ovnrun's transaction to reach the stopped leader", done, &out, func() bool {
		return pendingFrom(t, leader, l.CtlAddr)
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if runErr != nil {
		t.Fatalf("ovnrun --lab: %v\n%s", runErr, out.String())
	}
	got := out.String()
	for _, want := range []string{"retrying the step once reconnected", "Step topology: 20 created"} {
		if !strings.Contains(got, want) {
			t.Errorf("the run's output lacks %q:\n%s", want, got)
		}
	}
	checkPings(t, got, 3)

	// Each row once, read from a member that is still up.
	var alive *lab.Host
	for _, h := range l.Hosts {
		if h.Name != leader.Name && strings.HasPrefix(h.Name, "h") {
			alive = h
			break
		}
	}
	for table, want := range map[string]int{"Logical_Switch": 3, "Logical_Router": 1, "Logical_Router_Port": 3,
		"Logical_Switch_Port": 8, "DHCP_Options": 4, "Gateway_Chassis": 1} {
		names := nbNames(t, alive, table)
		if len(names) != want {
			t.Errorf("%s: %d rows %v, want %d", table, len(names), names, want)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] && n != "" {
				t.Errorf("%s: %q twice", table, n)
			}
			seen[n] = true
		}
	}
	// Again: the killed member is started and joins as a follower, and h0's
	// Connection rows are read through h0's own member, a follower now (the
	// leader was killed, or h0 was not it); the NB needs nothing. The trace
	// runs on a follower, reading its own member.
	newLeader, _ := nbLeader(t, l)
	follower := "h2"
	if newLeader.Name == "h2" {
		follower = "h1"
	}
	text, _ = replaceOnce(paused, "central = h2)", "central = "+follower+")")
	writeFile(t, path, text)
	again, _ := ovnrunProcess(t, "--lab", path)
	for _, want := range []string{"~ service " + leader.Name + "/ovn-northd", "Step topology: 20 unchanged",
		"] trace h1/v0 -> 172.16.3.253: run ("} {
		if !strings.Contains(again, want) {
			t.Errorf("the run after the kill lacks %q:\n%s", want, again)
		}
	}
	if out, _ := ovnrunProcess(t, "--lab", path); !strings.Contains(out, "\nNo changes.\n") {
		t.Errorf("the third run plans changes:\n%s", out)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(s, old, new string) (string, int) {
	n := strings.Count(s, old)
	return strings.Replace(s, old, new, 1), n
}

// waitUntil polls cond until it holds; the run ending first fails t.
func waitUntil(t *testing.T, what string, done chan struct{}, out *bytes.Buffer, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-done:
			t.Fatalf("the run ended while waiting for %s:\n%s", what, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// nbLeader returns the central member whose NB is the RAFT leader, and its
// ovsdb-server's pid.
func nbLeader(t *testing.T, l *lab.Lab) (*lab.Host, int) {
	t.Helper()
	var leader *lab.Host
	err := poll.Until(t.Context(), 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		for _, h := range l.Hosts {
			ctl := filepath.Join(h.OVNRundir(), "ovnnb_db.ctl")
			if _, err := os.Stat(ctl); err != nil {
				continue
			}
			st, _ := exec.Command("ovs-appctl", "-t", ctl, "cluster/status", "OVN_Northbound").Output()
			if strings.Contains(string(st), "\nRole: leader\n") {
				leader = h
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no NB leader: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(leader.OVNRundir(), "ovnnb_db.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return leader, pid
}

// pendingFrom reports whether a connection from addr to h's NB port holds
// bytes the server has not read.
func pendingFrom(t *testing.T, h *lab.Host, addr string) bool {
	t.Helper()
	ss, err := lab.Output("ss", "-N", h.NS, "-Htn", "state", "established", "( sport = :6641 )")
	if err != nil {
		t.Fatalf("ss in %s: %v", h.NS, err)
	}
	for _, line := range strings.Split(ss, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] != "0" && strings.HasPrefix(f[3], addr+":") {
			return true
		}
	}
	return false
}

// nbNames lists the name column of an NB table on h's member.
func nbNames(t *testing.T, h *lab.Host, table string) []string {
	t.Helper()
	col := "name"
	if table == "DHCP_Options" {
		col = "cidr"
	}
	out, err := exec.Command("ovn-nbctl", "--no-leader-only", "--db=unix:"+filepath.Join(h.OVNRundir(), "ovnnb_db.sock"),
		"--format=csv", "--no-headings", "--columns="+col, "list", table).Output()
	if err != nil {
		t.Fatalf("ovn-nbctl list %s on %s: %v", table, h.Name, err)
	}
	return strings.Fields(strings.TrimSpace(string(out)))
}
