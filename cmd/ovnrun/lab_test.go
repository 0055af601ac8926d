package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/poll"
)

// The seed's runbooks end to end in emulated labs: namespace hosts with
// sshd, Open vSwitch and OVN, namespace VMs that get their addresses from
// OVN's DHCP, and the runbooks' pings. Each test starts its lab itself and
// tears it down; its packets stay in the lab's namespaces.

// labRunbook copies runbooks/NAME.star under a name of this process's own,
// so that its lab (named after the runbook, with namespaces of that name)
// never meets a user's, and points the labs' files at the test's directory.
func labRunbook(t testing.TB, name string) (path, labName string) {
	t.Helper()
	return labRunbookFrom(t, filepath.Join(repoRoot, "runbooks", name+".star"), name)
}

// labRunbookFrom is labRunbook for the runbook at src, its lab called name.
func labRunbookFrom(t testing.TB, src, name string) (path, labName string) {
	t.Helper()
	text, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("OVNRUN_LAB_DIR", filepath.Join(dir, "labs"))
	path = filepath.Join(dir, fmt.Sprintf("t%d%s.star", os.Getpid(), name))
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	labName = lab.NameFor(path)
	t.Cleanup(func() {
		if err := lab.Down(labName); err != nil {
			t.Error(err)
		}
	})
	return path, labName
}

// ovnrunProcess runs the test binary as ovnrun (see TestMain) in a process
// of its own, as --lab needs: it runs itself again inside the lab.
func ovnrunProcess(t testing.TB, args ...string) (string, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("ovnrun %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), took
}

var pingLine = regexp.MustCompile(`(?m)^  \[[^]]+\] ping .*: run \(.*\): \d+ sent, (\d+) received`)

// checkPings fails t unless the output reports n pings that got replies.
func checkPings(t testing.TB, out string, n int) {
	t.Helper()
	got := pingLine.FindAllStringSubmatch(out, -1)
	for _, m := range got {
		if m[1] == "0" {
			t.Errorf("a ping got no reply: %s", m[0])
		}
	}
	if len(got) != n {
		t.Errorf("%d pings reported replies, want %d:\n%s", len(got), n, out)
	}
}

// checkDestroyed runs --destroy: it deletes the runbook's NB rows and VMs
// (none kept), then resets the lab's hosts to as they were when the lab
// came up; a run after it builds everything again from nothing.
func checkDestroyed(t *testing.T, path, name string, rows int) {
	t.Helper()
	out, _ := ovnrunProcess(t, "--lab", "--destroy", path)
	for _, want := range []string{fmt.Sprintf("Step destroy: %d destroyed (", rows), "- logical_switch ls1 ",
		"- vm_nic ", "- vm ", "every host is as it was when the lab came up"} {
		if !strings.Contains(out, want) {
			t.Errorf("destroy lacks %q:\n%s", want, out)
		}
	}
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		if vms := lab.Namespaces(h.NS + "+"); len(vms) > 0 {
			t.Errorf("after destroy, VMs are left: %v", vms)
		}
		// As the lab brought it up: sshd alone, its address on the underlay.
		if pids := withoutEndingSessions(t, lab.PIDsIn(h.NS)); len(pids) != 1 {
			var cmds []string
			for _, p := range pids {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
				cmds = append(cmds, fmt.Sprintf("%d %s", p, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
			}
			t.Errorf("after destroy, %d processes run on %s, want its sshd alone: %s", len(pids), h.Name, strings.Join(cmds, "; "))
		}
		addrs, _ := lab.Output("ip", "-n", h.NS, "-o", "-4", "addr", "show", "dev", lab.Underlay)
		if !strings.Contains(addrs, " "+h.Address+"/") {
			t.Errorf("after destroy, %s's underlay is %q", h.Name, addrs)
		}
	}
	// A run after destroy builds the lab's contents again, from nothing.
	out, _ = ovnrunProcess(t, "--lab", path)
	if !strings.Contains(out, "NB not reachable yet") || !strings.Contains(out, "Applied ") {
		t.Errorf("run after destroy:\n%s", out)
	}
}

// checkDown tears the lab down with `ovnrun lab down` and checks that no
// namespace, process or file of it is left.
func checkDown(t *testing.T, path, name string) {
	t.Helper()
	pids := lab.Processes(name)
	if len(pids) == 0 {
		t.Error("no process runs in the lab")
	}
	if stdout, stderr, code := ovnrun(t, "lab", "down", path); code != exitOK || !strings.Contains(stdout, "is down") {
		t.Fatalf("lab down: exit %d\n%s%s", code, stdout, stderr)
	}
	if left := lab.Leftovers(name); len(left) > 0 {
		t.Errorf("left behind by lab down: %v", left)
	}
	// A killed process leaves its namespace before it is quite gone: give
	// the kernel a moment to finish its exit.
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for !lab.Gone(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !lab.Gone(pid) {
			t.Errorf("process %d of the lab is still running", pid)
		}
	}
	if entries, _ := os.ReadDir(lab.BaseDir()); len(entries) > 0 {
		t.Errorf("%s is not empty: %v", lab.BaseDir(), entries)
	}
}

// TestLabSeed is runbooks/dgp.star from nothing to verified pings, then
// again (no changes, the pings run again), --destroy, and lab down.
func TestLabSeed(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "dgp")
	out, took := ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	for _, want := range []string{"Lab " + name + " is up", "NB not reachable yet: it is started by step server; planned as if empty",
		"Timing:", "Applied 6 step(s) in "} {
		if !strings.Contains(out, want) {
			t.Errorf("first run lacks %q:\n%s", want, out)
		}
	}
	// The 10 s target is a speed figure, measured by BenchmarkLabSeed.
	t.Logf("seed lab (runbooks/dgp.star, namespace VMs) from nothing to verified pings: %s", took.Round(10*time.Millisecond))

	out, took = ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	if !strings.Contains(out, "\n5 command(s) will run.\nNo changes.\n") {
		t.Errorf("second run plans changes:\n%s", out)
	}
	t.Logf("second run: %s", took.Round(10*time.Millisecond))

	checkDestroyed(t, path, name, 20+12) // NB rows, then 8 NICs and 4 VMs
	checkDown(t, path, name)
}

// TestLabL3Gateway brings the lab up with `ovnrun lab up`, runs
// runbooks/l3gateway.star in it twice, checks `lab status`, destroys and
// tears it down.
func TestLabL3Gateway(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "l3gateway")
	stdout, stderr, code := ovnrun(t, "lab", "up", path)
	if code != exitOK || !strings.Contains(stdout, "Lab "+name+" is up") || !strings.Contains(stdout, "ovnrun --lab "+path) {
		t.Fatalf("lab up: exit %d\n%s%s", code, stdout, stderr)
	}
	out, took := ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	if strings.Contains(out, "is up (") {
		t.Errorf("--lab built the lab again:\n%s", out)
	}
	t.Logf("runbooks/l3gateway.star in a lab that is up, to verified pings: %s", took.Round(10*time.Millisecond))

	out, _ = ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	if !strings.Contains(out, "\n3 command(s) will run.\nNo changes.\n") {
		t.Errorf("second run plans changes:\n%s", out)
	}
	stdout, _, _ = ovnrun(t, "lab", "status")
	for _, want := range []string{"Lab " + name, "ovn-northd running", "vm vm0: namespace ", "172.16.1."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lab status lacks %q:\n%s", want, stdout)
		}
	}
	checkDestroyed(t, path, name, 11+4) // NB rows, then 2 NICs and 2 VMs
	checkDown(t, path, name)
}

func TestLabFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lab", "--offline", "--dry-run", "runbooks/dgp.star"}, "cannot be --offline"},
		{[]string{"--lab", "--inventory", "x.json", "runbooks/dgp.star"}, "supplies the inventory"},
		{[]string{"--lab", "--lab-vms", "kvm", "runbooks/dgp.star"}, "want ns or qemu"},
		{[]string{"lab", "down", "--lab-vms", "qemu", "dgp"}, "are for lab up"},
		{[]string{"lab", "up", "--lab-vms", "kvm", "runbooks/dgp.star"}, "want ns or qemu"},
		{[]string{"--lab-vms", "qemu", "runbooks/dgp.star"}, "--lab-vms needs --lab"},
		{[]string{"lab", "down"}, "a runbook or lab name, or --all"},
		{[]string{"lab", "up", "-D", "x=1"}, "lab up takes one runbook"},
	} {
		_, stderr, code := ovnrun(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("ovnrun %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, exitUsage, tc.want)
		}
	}
}

// tcpLine is the report of a tcp() check: "30/30 connected; h0/web1 11, ...".
var tcpLine = regexp.MustCompile(`(?m)^  \[[^]]+\] tcp .*: run \(.*\): (\d+)/(\d+) connected((?:;? [^ ,]+ \d+,?)*)`)

// TestLabLoadBalancerACL is runbooks/lb-acl.star with namespace VMs: a
// gateway router's load balancer VIP reaches each of three web VMs over 30
// connections from the allowed client; the other client's connections are
// dropped by the port group's ACL, and so is ICMP to the web VMs. Then a
// second run changes nothing, and --destroy and lab down leave nothing.
func TestLabLoadBalancerACL(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "lb-acl")
	out, took := ovnrunProcess(t, "--lab", path)
	m := tcpLine.FindStringSubmatch(out)
	if m == nil || m[1] != "30" || m[2] != "30" {
		t.Fatalf("no tcp check with 30 of 30 connections:\n%s", out)
	}
	for _, web := range []string{"web1", "web2", "web3"} {
		if !regexp.MustCompile(`/` + web + ` [1-9]\d*`).MatchString(m[3]) {
			t.Errorf("backend %s never answered the VIP: %s", web, m[0])
		}
	}
	for _, want := range []*regexp.Regexp{
		// The denied client's SYN got no answer at all: dropped, not reset.
		regexp.MustCompile(`(?m)^  \[h1\] tcp h1/client2 -> 10\.0\.0\.100:80: run \(.*\): 0/1 connected, 1 timed out, as expected`),
		regexp.MustCompile(`(?m)^  \[h0\] ping h0/client1 -> 10\.0\.1\.11: run \(.*\): no reply from 10\.0\.1\.11, as expected`),
	} {
		if !want.MatchString(out) {
			t.Errorf("first run lacks %s:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "Applied 4 step(s) in ") {
		t.Errorf("the run did not apply its 4 steps:\n%s", out)
	}
	t.Logf("runbooks/lb-acl.star from nothing to verified traffic: %s", took.Round(10*time.Millisecond))

	out, _ = ovnrunProcess(t, "--lab", path)
	if !strings.Contains(out, "No changes.") {
		t.Errorf("second run plans changes:\n%s", out)
	}
	checkDown(t, path, name)
}

// withoutEndingSessions drops from pids the per-connection sshd processes of
// a host's sshd (an sshd whose parent is in pids): when ovnrun exits, it
// closes its SSH connections, and sshd ends their processes on its own
// time, after. It waits for each to end, which it must; any other process
// stays in the list.
func withoutEndingSessions(t *testing.T, pids []int) []int {
	t.Helper()
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	var out []int
	for _, p := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if err != nil || len(fields) < 2 || strings.TrimSpace(string(comm)) != "sshd" {
			out = append(out, p)
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		if !in[ppid] {
			out = append(out, p) // the listener
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = poll.Until(ctx, time.Minute, 20*time.Millisecond, func() (bool, error) { return lab.Gone(p), nil })
		cancel()
		if err != nil {
			t.Errorf("the SSH session process %d did not end after ovnrun closed its connection", p)
			out = append(out, p)
		}
	}
	return out
}
