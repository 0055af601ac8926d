package daemons

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartNB(t *testing.T) {
	Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	start := time.Now()
	nb := StartNB(t, WithTCP())
	t.Logf("NB %s up in %v", nb.SchemaVersion, time.Since(start))

	if !strings.HasPrefix(nb.TCP, "tcp:127.0.0.1:") {
		t.Errorf("TCP = %q, want tcp:127.0.0.1:PORT", nb.TCP)
	}
	if nb.SchemaVersion == "" || nb.DBName != "OVN_Northbound" {
		t.Errorf("SchemaVersion %q DBName %q", nb.SchemaVersion, nb.DBName)
	}
	if _, err := nb.NBCtl("ls-add", "x"); err != nil {
		t.Fatal(err)
	}
	// Over TCP too, to prove the logged port is the server's.
	out, err := run("ovn-nbctl", "--db="+nb.TCP, "--timeout=20", "ls-list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(x)") {
		t.Errorf("ls-list = %q, want switch x", out)
	}

	nb.Stop()
	if nb.Alive() {
		t.Error("server alive after Stop")
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(nb.proc.cmd.Process.Pid)); err == nil {
		t.Error("process still in /proc after Stop (not reaped)")
	}
	nb.Stop() // idempotent, as cleanup calls it again
}

func TestWithSchema(t *testing.T) {
	Require(t, "ovsdb-server", "ovsdb-tool")
	const old = "../../../shared/ovn-schemas/ovn-nb-v22.03.0.ovsschema"
	if _, err := os.Stat(old); err != nil {
		t.Skip("no shared OVN schemas:", err)
	}
	nb := StartNB(t, WithSchema(old))
	if nb.SchemaVersion != "6.1.0" {
		t.Errorf("SchemaVersion = %q, want 6.1.0", nb.SchemaVersion)
	}
}

func TestStartCentral(t *testing.T) {
	Require(t)
	start := time.Now()
	c := StartCentral(t)
	t.Logf("central up in %v", time.Since(start))

	if _, err := c.NBCtl("ls-add", "sw0", "--", "lsp-add", "sw0", "p1"); err != nil {
		t.Fatal(err)
	}
	// --wait=sb proves northd is connected to both and translating.
	if _, err := c.NBCtl("--wait=sb", "sync"); err != nil {
		t.Fatal(err)
	}
	out, err := c.SBCtl("--columns=external_ids", "list", "Datapath_Binding")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "sw0") {
		t.Errorf("SB Datapath_Binding = %q, want one for sw0", out)
	}
}

func TestStartNBCluster(t *testing.T) {
	Require(t, "ovsdb-server", "ovsdb-tool", "ovs-appctl", "ovn-nbctl")
	start := time.Now()
	c := StartNBCluster(t, 3)
	t.Logf("3-member cluster up in %v", time.Since(start))

	for i, s := range c.Members {
		if s.TCP == "" || s.Raft == "" {
			t.Errorf("member %d: TCP %q Raft %q", i, s.TCP, s.Raft)
		}
	}
	leader, err := c.Leader()
	if err != nil {
		t.Fatal(err)
	}
	status, err := c.ClusterStatus(leader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "Role: leader") {
		t.Errorf("member %d is leader per _Server but cluster/status says:\n%s", leader, status)
	}
	if _, err := c.NBCtl("ls-add", "before"); err != nil {
		t.Fatal(err)
	}

	killed, err := c.KillLeader()
	if err != nil {
		t.Fatal(err)
	}
	if c.Members[killed].Alive() {
		t.Fatal("leader alive after KillLeader")
	}
	start = time.Now()
	next, err := c.WaitLeader(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("member %d killed, member %d leader after %v", killed, next, time.Since(start))
	if next == killed {
		t.Fatalf("dead member %d reported as leader", killed)
	}

	if _, err := c.NBCtl("ls-add", "after"); err != nil {
		t.Fatal(err)
	}
	out, err := c.NBCtl("ls-list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(before)") || !strings.Contains(out, "(after)") {
		t.Errorf("ls-list after failover = %q, want before and after", out)
	}
}

func TestRequireSkipsOrFails(t *testing.T) {
	ft := &fakeTB{TB: t}
	t.Setenv("CI", "")
	func() {
		defer func() { recover() }()
		Require(ft, "no-such-ovn-binary")
	}()
	if !ft.skipped || !strings.Contains(ft.msg, "no-such-ovn-binary") {
		t.Errorf("without CI: skipped=%v msg=%q", ft.skipped, ft.msg)
	}

	ft = &fakeTB{TB: t}
	t.Setenv("CI", "true")
	func() {
		defer func() { recover() }()
		Require(ft, "no-such-ovn-binary")
	}()
	if !ft.failed || ft.skipped {
		t.Errorf("with CI=true: failed=%v skipped=%v", ft.failed, ft.skipped)
	}
}

// fakeTB records Skip and Fatal instead of ending the real test; panicking
// stands in for runtime.Goexit.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	panic("skip")
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	panic("fatal")
}
