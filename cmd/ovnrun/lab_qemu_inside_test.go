package main

import (
	"regexp"
	"strings"
	"testing"
)

// testInsideQEMUGuests works inside the QEMU guests of lab name (the seed,
// runbooks/dgp.star, up with --lab-vms=qemu): lab exec through the guest
// agent with the exit status and both streams passed through, lab capture
// on the host's tap of a guest's eth0, lab shell on a guest's serial
// console through a pty, left with Ctrl-].
func testInsideQEMUGuests(t *testing.T, name string) {
	t.Run("exec", func(t *testing.T) {
		stdout, stderr, code := ovnrun(t, "lab", "exec", name, "h1/v1", "--", "sh", "-c", "cat /proc/sys/kernel/hostname; echo oops >&2; exit 5")
		if code != 5 || stdout != "ovnrun-guest\n" || stderr != "oops\n" {
			t.Errorf("lab exec in h1/v1: exit %d, stdout %q, stderr %q; want exit 5, ovnrun-guest and oops", code, stdout, stderr)
		}
		_, stderr, code = ovnrun(t, "lab", "exec", name, "h1/v9", "--", "true")
		if code != exitFailure || !strings.Contains(stderr, `has no VM "v9"`) || !strings.Contains(stderr, "h1/v1") {
			t.Errorf("lab exec in a guest that is not: exit %d, %s", code, stderr)
		}
	})
	t.Run("capture", func(t *testing.T) {
		stdout, stderr, _ := ovnrun(t, "lab", "exec", name, "h1/v0", "--", "ip", "-o", "-4", "addr", "show", "scope", "global")
		m := regexp.MustCompile(`inet ([0-9.]+)/`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("h1/v0 has no address: %q %q", stdout, stderr)
		}
		// Two requests out of h0/v0's eth0 and two replies into it, as its
		// tap on h0 sees them.
		n := capturePackets(t, []string{"-c", "4", name, "h0/v0", "eth0", "--", "icmp"}, func() {
			if out, errOut, code := ovnrun(t, "lab", "exec", name, "h0/v0", "--", "ping", "-c", "2", "-i", "0.2", m[1]); code != 0 {
				t.Errorf("ping %s from h0/v0: exit %d: %s%s", m[1], code, out, errOut)
			}
		})
		if n != 4 {
			t.Errorf("the pcap holds %d packets, want the 4 of two pings", n)
		}
		_, stderr, code := ovnrun(t, "lab", "capture", name, "h0/v0", "eth7")
		if code != exitFailure || !strings.Contains(stderr, `has no NIC "eth7"`) {
			t.Errorf("lab capture on a NIC the guest lacks: exit %d, %s", code, stderr)
		}
	})
	t.Run("shell", func(t *testing.T) {
		s := startOnPTY(t, "lab", "shell", name, "h0/v0")
		prompt := "[" + name + " h0/v0] # "
		if !s.waitFor(prompt) {
			t.Fatalf("lab shell h0/v0 showed no prompt %q: %q", prompt, s.out.String())
		}
		s.send(t, "echo $((6*7))\r")
		if !s.waitFor("42\r\n") {
			t.Fatalf("lab shell h0/v0: no 42 came back: %q", s.out.String())
		}
		s.send(t, "\x1d")
		if code := s.wait(t); code != 0 || !strings.Contains(s.out.String(), "left the console of h0/v0") {
			t.Errorf("lab shell h0/v0 after Ctrl-]: exit %d, terminal %q", code, s.out.String())
		}
	})
}
