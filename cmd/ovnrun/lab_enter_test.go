package main

import (
	"bufio"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// TestLabWorkInside brings one lab up (runbooks/l3gateway.star, namespace
// VMs) and works inside it: lab status lists what can be named, lab exec
// runs in a host (with its daemons' environment) and in a VM and passes
// the exit status through, lab capture -w writes a pcap of the packets a
// ping inside the lab sends, and lab shell on a host and a VM, driven
// through a pty, passes a command's output and its exit status through.
func TestLabWorkInside(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "l3gateway")
	ovnrunProcess(t, "--lab", path)
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	var vm string // the first HOST/VM
	for _, n := range l.Names() {
		if strings.Contains(n, "/") {
			vm = n
			break
		}
	}
	if vm == "" {
		t.Fatalf("no VM in lab %s: %v", name, l.Names())
	}
	h0, h1 := l.Hosts[0], l.Hosts[1]

	t.Run("status", func(t *testing.T) {
		stdout, _, _ := ovnrun(t, "lab", "status")
		if !regexp.MustCompile(`(?m)^    devices: .*\b` + lab.Underlay + `\b`).MatchString(stdout) {
			t.Errorf("lab status lists no host's %s:\n%s", lab.Underlay, stdout)
		}
		for _, want := range []string{"to name in ovnrun lab exec, shell and capture: " + h0.Name, ", " + vm} {
			if !strings.Contains(stdout, want) {
				t.Errorf("lab status lacks %q:\n%s", want, stdout)
			}
		}
	})
	t.Run("exec", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			out  string
		}{
			// The host's environment reaches its own Open vSwitch.
			{[]string{name, h0.Name, "--", "ovs-vsctl", "br-exists", "br-int"}, 0, ""},
			{[]string{path, h0.Name, "--", "sh", "-c", "echo $OVS_RUNDIR; exit 3"}, 3, h0.Name + "/ovs"},
			{[]string{name, vm, "--", "ip", "-o", "-4", "addr", "show", "scope", "global"}, 0, "172.16.1."},
			{[]string{name, vm, "--", "sh", "-c", "exit 7"}, 7, ""},
			// One lab is up: it need not be named.
			{[]string{vm, "--", "true"}, 0, ""},
		} {
			stdout, stderr, code := ovnrun(t, append([]string{"lab", "exec"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout, tc.out) {
				t.Errorf("lab exec %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.out)
			}
		}
		_, stderr, code := ovnrun(t, "lab", "exec", name, h0.Name+"/nope", "--", "true")
		if code != exitFailure || !strings.Contains(stderr, `has no VM "nope"`) || !strings.Contains(stderr, vm) {
			t.Errorf("lab exec on a VM that is not: exit %d, %s", code, stderr)
		}
	})
	t.Run("shell", func(t *testing.T) {
		testShellOnHost(t, name, h0.Name)
		testShellOnHost(t, name, vm)
	})
	t.Run("capture", func(t *testing.T) {
		n := capturePackets(t, []string{"-c", "4", name, h0.Name, lab.Underlay, "--", "icmp"}, func() {
			if _, _, code := ovnrun(t, "lab", "exec", name, h0.Name, "--", "ping", "-c", "2", "-i", "0.2", h1.Address); code != 0 {
				t.Errorf("ping %s from %s: exit %d", h1.Address, h0.Name, code)
			}
		})
		if n != 4 {
			t.Errorf("the pcap holds %d packets, want the 4 of two pings", n)
		}
	})
}

// capturePackets runs lab capture -w with args, runs during once tcpdump
// listens, and returns how many packets the pcap file holds once the
// capture has ended.
func capturePackets(t *testing.T, args []string, during func()) int {
	t.Helper()
	pcap := filepath.Join(t.TempDir(), "capture.pcap")
	cmd := exec.Command(os.Args[0], append([]string{"lab", "capture", "-w", pcap}, args...)...)
	cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says it listens once its capture is open.
	sc := bufio.NewScanner(stderr)
	var said []string
	for sc.Scan() && !strings.Contains(sc.Text(), "listening on") {
		said = append(said, sc.Text())
	}
	during()
	for sc.Scan() {
		said = append(said, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lab capture: %v\n%s", err, strings.Join(said, "\n"))
	}
	data, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	// A pcap file: its magic number, then packets after the 24-byte header.
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.BigEndian.Uint32(data) != 0xa1b2c3d4 {
		t.Fatalf("%s is no pcap (%d bytes)", pcap, len(data))
	}
	n := 0
	for off := 24; off+16 <= len(data); n++ {
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	return n
}
