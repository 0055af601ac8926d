package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
)

// One SSH connection per host per run, shared by every domain: host
// commands, the host's Open vSwitch database and its libvirt. Each lab
// host's sshd logs one "Accepted publickey" line per connection (LogLevel
// VERBOSE); the lab's own readiness probes never log in.

// sshLogins returns how many logins each host of lab name has accepted.
func sshLogins(t *testing.T, name string) map[string]int {
	t.Helper()
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Hosts) == 0 {
		t.Fatal("the lab has no hosts")
	}
	out := map[string]int{}
	for _, h := range l.Hosts {
		log, err := os.ReadFile(filepath.Join(h.Dir, "log", "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = strings.Count(string(log), "Accepted publickey for ")
	}
	return out
}

// checkOneLoginPerHost fails t unless every host accepted exactly one
// login since before (the counts sshLogins returned then).
func checkOneLoginPerHost(t *testing.T, name string, before map[string]int, what string) {
	t.Helper()
	for host, n := range sshLogins(t, name) {
		if got := n - before[host]; got != 1 {
			t.Errorf("%s: host %s accepted %d SSH connections, want 1", what, host, got)
		}
	}
}

// TestLabOneSessionPerHost runs the seed in a lab with namespace VMs, then
// plans it in a lab with QEMU guests, where the libvirt driver reaches
// every hypervisor's libvirtd and Open vSwitch too: each run holds one
// connection per host.
func TestLabOneSessionPerHost(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "dgp")
	out, _ := ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	checkOneLoginPerHost(t, name, nil, "seed run, namespace VMs")

	libvirttest.Require(t)
	libvirttest.GuestKit(t)
	qpath, qname := qemuLabRunbook(t, "dgp")
	if stdout, stderr, code := ovnrun(t, "lab", "up", "--lab-vms=qemu", qpath); code != exitOK {
		t.Fatalf("lab up: exit %d\n%s%s", code, stdout, stderr)
	}
	before := sshLogins(t, qname)
	out, _ = ovnrunProcess(t, "--lab", "--dry-run", qpath)
	if !strings.Contains(out, "+ vm ") {
		t.Errorf("dry-run plans no VM:\n%s", out)
	}
	checkOneLoginPerHost(t, qname, before, "seed plan, QEMU guests")
}
