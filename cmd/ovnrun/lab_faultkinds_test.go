package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// faultsStep, appended to l3gateway.star, makes the fault -D fault= names;
// with -D observe=FILE, h1 then writes whether its ovn-controller is active
// into FILE; with -D gate=FILE, h1 then creates FILE.waiting and waits for
// FILE to exist. The gate is h1's, after the observation: a host's actions
// run in order, each journaled as done before the next starts, so once
// FILE.waiting exists only the gate (guarded by FILE) is unfinished.
const faultsStep = `
FAULT = var("fault", "")
OBSERVE = var("observe", "")
GATE = var("gate", "")

def faults():
    if FAULT == "stop":
        fault(h1, "stop", service = "ovn-controller")
    elif FAULT == "kill":
        fault(h1, "kill", process = "ovn-controller")
    elif FAULT == "netem":
        fault(h0, "netem", dev = "lab0", delay_ms = 300)
        ping(guests["h0_vm0_eth0"], net["h1_vm0_eth0"])
    if OBSERVE:
        sh(h1, "systemctl is-active ovn-controller >%s 2>&1 || true" % OBSERVE, name = "observe")
    if GATE:
        sh(h1, "touch %s.waiting; while [ ! -e %s ]; do sleep 0.1; done" % (GATE, GATE), creates = GATE, name = "gate")

step("faults", faults)
`

// TestLabFaults runs fault() through the CLI in one emulated lab: a stopped
// and a killed ovn-controller are running again after the run; a run
// killed (SIGKILL) while its fault is in place is undone by `ovnrun
// --resume`; netem on a host's underlay delays its tunnelled traffic (the
// impairer, on a kernel without netem) until the run ends.
func TestLabFaults(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "l3gateway")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(src, faultsStep...), 0o644); err != nil {
		t.Fatal(err)
	}
	ovnrunProcess(t, "--lab", path)
	dir := t.TempDir()
	active := func(t *testing.T) bool {
		t.Helper()
		stdout, stderr, code := ovnrun(t, "lab", "exec", name, "h1", "--", "systemctl", "is-active", "ovn-controller")
		if code != 0 && code != 3 {
			t.Fatalf("lab exec systemctl is-active: exit %d: %s%s", code, stdout, stderr)
		}
		return code == 0
	}
	for _, kind := range []string{"stop", "kill"} {
		t.Run(kind, func(t *testing.T) {
			obs := filepath.Join(dir, kind)
			out, _ := ovnrunProcess(t, "--lab", "--only", "faults", "-D", "fault="+kind, "-D", "observe="+obs, path)
			if b, _ := os.ReadFile(obs); strings.TrimSpace(string(b)) != "inactive" {
				t.Errorf("during the %s fault, h1's ovn-controller was %q", kind, b)
			}
			if !strings.Contains(out, "fault: h1: undone: systemctl start ovn-controller") {
				t.Errorf("the run does not say it undid the fault:\n%s", out)
			}
			if !active(t) {
				t.Errorf("after the run, h1's ovn-controller is not running")
			}
		})
	}
	t.Run("resume", func(t *testing.T) {
		obs, gate := filepath.Join(dir, "resume"), filepath.Join(dir, "gate")
		args := []string{"--lab", "--only", "faults", "-D", "fault=stop", "-D", "observe=" + obs, "-D", "gate=" + gate, path}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "OVNRUN_TEST_MAIN=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Killed as soon as the step waits at its gate (the fault made and
		// observed, both journaled as done): the earliest point where the
		// run is known to be there. Killing once the observation's file
		// has content, as this test did, can land before the observation
		// is journaled as done, and --resume then rightly refuses to run
		// an unguarded command again.
		for {
			if _, err := os.Stat(gate + ".waiting"); err == nil {
				break
			}
			select {
			case err := <-exited:
				t.Fatalf("the run ended before its gate: %v\n%s", err, out.String())
			case <-time.After(time.Millisecond):
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		if b, _ := os.ReadFile(obs); strings.TrimSpace(string(b)) != "inactive" {
			t.Errorf("during the stop fault, h1's ovn-controller was %q", b)
		}
		if active(t) {
			t.Fatalf("after the killed run, h1's ovn-controller runs: the fault was undone by no one\nkilled run:\n%s", out.String())
		}
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		resume := exec.Command(os.Args[0], append([]string{"--resume"}, args...)...)
		resume.Env = cmd.Env
		resumed, err := resume.CombinedOutput()
		if err != nil {
			t.Fatalf("ovnrun --resume: %v\n%s\nkilled run:\n%s", err, resumed, out.String())
		}
		if !strings.Contains(string(resumed), "fault: h1: undone: systemctl start ovn-controller") || !active(t) {
			t.Errorf("--resume did not undo the killed run's fault:\n%s\nkilled run:\n%s", resumed, out.String())
		}
	})
	t.Run("netem", func(t *testing.T) {
		out, _ := ovnrunProcess(t, "--lab", "--only", "faults", "-D", "fault=netem", path)
		m := regexp.MustCompile(`loss, rtt avg ([0-9.]+) ms`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no ping round trip in:\n%s", out)
		}
		if avg, _ := strconv.ParseFloat(m[1], 64); avg < 300 {
			t.Errorf("with delay_ms 300 on h0's %s, the ping's average round trip was %s ms", lab.Underlay, m[1])
		}
		if !strings.Contains(out, "fault: h0: undone: ") {
			t.Errorf("the run does not say it undid the fault:\n%s", out)
		}
		l, err := lab.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		h0, _ := l.Host("h0")
		if qd, _ := lab.Output("tc", "-n", h0.NS, "qdisc", "show", "dev", lab.Underlay); strings.Contains(qd, "netem") || strings.Contains(qd, "clsact") {
			t.Errorf("after the run, h0's %s has qdiscs %q", lab.Underlay, qd)
		}
	})
}
