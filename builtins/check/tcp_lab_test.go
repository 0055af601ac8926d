package check

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/interp"
)

// tcpLab is three namespace VMs of the lab's kind, wired without OVN: v0
// reaches v1 (10.1.1.2) and v2 (10.1.2.2) over a veth each, and
// 10.9.0.100, an address both v1 and v2 hold, over an equal-cost route
// through both that hashes on ports, so that connections spread over them
// as over a load balancer's backends. 10.1.1.5 is in v1's subnet with a
// MAC nobody has: what is sent to it is lost, as an ACL drops it.
//
// With busybox set, the lab's bin directory, first in the VMs' PATH, holds
// every busybox applet, as the guest kit's /bin does: the check's scripts
// then run in busybox sh with busybox tools, as in a QEMU guest.
func tcpLab(t *testing.T, name string, busybox bool) *lab.Lab {
	t.Helper()
	labhost.RequireLab(t)
	l := &lab.Lab{Name: fmt.Sprintf("t%d%s", os.Getpid(), name), Dir: t.TempDir()}
	if busybox {
		installBusybox(t, l.BinDir())
	}
	ns := func(vm string) string { return l.VMNS("h0", vm) }
	for _, vm := range []string{"v0", "v1", "v2"} {
		if err := lab.AddNamespace(ns(vm)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := lab.RemoveNamespace(ns(vm)); err != nil {
				t.Error(err)
			}
		})
	}
	v0, v1, v2 := ns("v0"), ns("v1"), ns("v2")
	for _, argv := range [][]string{
		{"ip", "-n", v0, "link", "add", "a1", "type", "veth", "peer", "name", "eth0", "netns", v1},
		{"ip", "-n", v0, "link", "add", "a2", "type", "veth", "peer", "name", "eth0", "netns", v2},
		{"ip", "-n", v0, "addr", "add", "10.1.1.1/29", "dev", "a1"},
		{"ip", "-n", v0, "addr", "add", "10.1.2.1/29", "dev", "a2"},
		{"ip", "-n", v1, "addr", "add", "10.1.1.2/29", "dev", "eth0"},
		{"ip", "-n", v2, "addr", "add", "10.1.2.2/29", "dev", "eth0"},
		{"ip", "-n", v1, "addr", "add", "10.9.0.100/32", "dev", "lo"},
		{"ip", "-n", v2, "addr", "add", "10.9.0.100/32", "dev", "lo"},
		{"ip", "-n", v0, "link", "set", "lo", "up"},
		{"ip", "-n", v0, "link", "set", "a1", "up"},
		{"ip", "-n", v0, "link", "set", "a2", "up"},
		{"ip", "-n", v1, "link", "set", "lo", "up"},
		{"ip", "-n", v1, "link", "set", "eth0", "up"},
		{"ip", "-n", v2, "link", "set", "lo", "up"},
		{"ip", "-n", v2, "link", "set", "eth0", "up"},
		{"ip", "netns", "exec", v0, "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"},
		{"ip", "-n", v0, "route", "add", "10.9.0.100/32", "nexthop", "via", "10.1.1.2", "nexthop", "via", "10.1.2.2"},
		{"ip", "-n", v0, "neigh", "replace", "10.1.1.5", "lladdr", "02:00:00:00:01:05", "dev", "a1", "nud", "permanent"},
	} {
		if err := lab.Run(argv[0], argv[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// installBusybox links every busybox applet into dir.
func installBusybox(t *testing.T, dir string) {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTCPInNamespaces runs tcp() checks of a runbook with real packets
// between namespace VMs, through the lab's VM driver: answered by the
// check's own listeners, refused by a port nobody listens on, lost on the
// way, and spread over two backends. Every listener is gone afterwards,
// also after a check that failed. It runs with the host's shell and tools,
// and with busybox' only, as a guest of the guest kit has.
func TestTCPInNamespaces(t *testing.T) {
	for _, busybox := range []bool{false, true} {
		name := map[bool]string{false: "tcp", true: "tcpbb"}[busybox]
		t.Run(name, func(t *testing.T) { testTCPInNamespaces(t, tcpLab(t, name, busybox), busybox) })
	}
}

func testTCPInNamespaces(t *testing.T, l *lab.Lab, busybox bool) {
	vms := lab.NewVMDriver(l)
	// Which shell the checks get: busybox' in the second run, or it
	// tests nothing the first did not.
	r, err := vms.GuestExec(context.Background(), "h0", "v0", []string{"sh", "-c", "readlink /proc/$$/exe"})
	if err != nil {
		t.Fatal(err)
	}
	if sh := strings.TrimSpace(r.Stdout); strings.HasSuffix(sh, "/busybox") != busybox {
		t.Fatalf("the VMs' sh is %s", sh)
	}
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	src := `h0 = host("h0", address = "177.1.1.1")
v0 = vm("v0", host = h0, image = "/img.qcow2")
v1 = vm("v1", host = h0, image = "/img.qcow2")
v2 = vm("v2", host = h0, image = "/img.qcow2")
tcp(v0, v1, 7001, count = 3)
tcp(v0, "10.1.1.2", 7002, expect = "refused")
tcp(v0, "10.1.1.5", 7003, expect = "timeout", timeout_s = 1)
tcp(v0, "10.1.1.2", 7002, expect = "failure", timeout_s = 1)
tcp(v0, "10.9.0.100", 7004, count = 30, backends = [v1, v2])
tcp(v0, v2, 7005, expect = "refused", timeout_s = 1)
tcp(v0, v1, 7001, expect = "timeout", timeout_s = 1)
tcp(v0, "10.1.1.2", 7006, timeout_s = 1)
`
	p, err := interp.Evaluate("tcp.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDriver(nil, vms)
	ctx := interp.WithOutputs(context.Background(), interp.Outputs{
		"vm/h0/v1": {"ipv4": "10.1.1.2"}, "vm/h0/v2": {"ipv4": "10.1.2.2"}})
	for _, tc := range []struct {
		id   string
		want string // the check's result, or its error
		fail bool
	}{
		{"tcp/h0/v0->h0/v1:7001", "3/3 connected; h0/v1 3\n", false},
		{"tcp/h0/v0->10.1.1.2:7002", "0/1 connected, 1 refused, as expected\n", false},
		{"tcp/h0/v0->10.1.1.5:7003", "0/1 connected, 1 timed out, as expected\n", false},
		{"tcp/h0/v0->10.1.1.2:7002#2", "0/1 connected, 1 refused, as expected\n", false},
		{"tcp/h0/v0->10.9.0.100:7004", "30/30 connected; h0/v1 ", false},
		// Failures: the listeners answered where nothing was to.
		{"tcp/h0/v0->h0/v2:7005", "1/1 connected; h0/v2 1; expected every connection refused", true},
		{"tcp/h0/v0->h0/v1:7001#2", "1/1 connected; h0/v1 1; expected every connection timed out", true},
		{"tcp/h0/v0->10.1.1.2:7006", "0/1 connected, 1 refused", true},
	} {
		t.Run(tc.id, func(t *testing.T) {
			a, ok := p.Action(tc.id)
			if !ok {
				t.Fatalf("no action %s", tc.id)
			}
			progress, err := applyIn(ctx, d, a)
			got := progress
			if err != nil {
				got = err.Error()
			}
			t.Log(got)
			if (err != nil) != tc.fail || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, progress, tc.want)
			}
			for _, vm := range []string{"v1", "v2"} {
				if pids := lab.PIDsIn(l.VMNS("h0", vm)); len(pids) > 0 {
					t.Errorf("processes left in VM %s: %v", vm, pids)
				}
			}
		})
	}
}
