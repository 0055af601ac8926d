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
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// nsRunner runs a host's commands in its network namespace with its own
// OVS_RUNDIR, as the lab's sshd does for an emulated host.
type nsRunner struct{ ns, rundir, bin string }

func (n nsRunner) Run(ctx context.Context, host string, c remote.Command) (*remote.Result, error) {
	argv := append([]string{"netns", "exec", n.ns}, c.Argv...)
	if c.Argv == nil {
		argv = append(argv, "sh", "-c", c.Script)
	}
	cmd := exec.CommandContext(ctx, "ip", argv...)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+n.rundir, "PATH="+n.bin+":"+os.Getenv("PATH"))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := &remote.Result{Host: host, Cmd: c.String(), Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Status = ee.ExitCode()
	} else if err != nil {
		return nil, err
	}
	return r, nil
}

// faultPair is two namespaces joined by a veth: h0's f0 (10.7.0.1) and
// h1's f1 (10.7.0.2).
func faultPair(t *testing.T) nsRunner {
	t.Helper()
	labhost.RequireLab(t)
	n0, n1 := fmt.Sprintf("ft%d-0", os.Getpid()), fmt.Sprintf("ft%d-1", os.Getpid())
	for _, ns := range []string{n0, n1} {
		if err := lab.AddNamespace(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := lab.RemoveNamespace(ns); err != nil {
				t.Error(err)
			}
		})
	}
	for _, argv := range [][]string{
		{"ip", "-n", n0, "link", "add", "f0", "type", "veth", "peer", "name", "f1", "netns", n1},
		{"ip", "-n", n0, "addr", "add", "10.7.0.1/30", "dev", "f0"},
		{"ip", "-n", n1, "addr", "add", "10.7.0.2/30", "dev", "f1"},
		{"ip", "-n", n0, "link", "set", "f0", "up"},
		{"ip", "-n", n1, "link", "set", "f1", "up"},
	} {
		if err := lab.Run(argv[0], argv[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	// Like the lab, use busybox' ping where the machine has no other.
	bin := t.TempDir()
	if _, err := exec.LookPath("ping"); err != nil {
		bb, err := exec.LookPath("busybox")
		if err != nil {
			t.Fatal("neither ping nor busybox is installed")
		}
		if err := os.Symlink(bb, filepath.Join(bin, "ping")); err != nil {
			t.Fatal(err)
		}
	}
	return nsRunner{ns: n0, rundir: t.TempDir(), bin: bin}
}

func faultAction(id string, f *Fault) *Fault {
	f.M = interp.Meta{Kind: "fault", Name: id, Mode: interp.Command, Driver: DriverName, Host: "h0", ID: id}
	return f
}

func pingAction(expect string) *Ping {
	p := &Ping{Src: "h0", Dst: "10.7.0.2", Count: 3, TimeoutS: 5, Expect: expect}
	p.M = interp.Meta{Kind: "ping", Name: "h0 -> 10.7.0.2", Mode: interp.Command, Driver: DriverName, Host: "h0", ID: "ping/" + expect}
	return p
}

// applyAll plans and applies actions with d, as a run's verify step does.
func applyAll(t *testing.T, d *Driver, actions ...interp.Action) error {
	t.Helper()
	cs, err := d.Plan(context.Background(), actions)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(context.Background(), cs)
	return err
}

// A cut link stops a ping during the run; the end of the run brings it back.
func TestFaultCutRestoredAtEnd(t *testing.T) {
	r := faultPair(t)
	d := NewDriver(r, nil)
	if err := applyAll(t, d, faultAction("fault/h0/cut-f0", &Fault{Kind: "cut", Dev: "f0"}), pingAction("failure")); err != nil {
		t.Fatalf("with f0 cut: %v", err)
	}
	var log strings.Builder
	if err := d.Finish(context.Background(), &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "ip link set dev f0 up") {
		t.Errorf("Finish logged %q, want the undo", log.String())
	}
	if err := applyAll(t, NewDriver(r, nil), pingAction("success")); err != nil {
		t.Fatalf("after the run: %v", err)
	}
}

// netem loss on a veth loses the pings; the qdisc is gone after the run.
func TestFaultNetemRestoredAtEnd(t *testing.T) {
	r := faultPair(t)
	if err := lab.Run("ip", "netns", "exec", r.ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("this kernel cannot run netem: %v", err)
		}
		t.Skipf("this kernel cannot run netem (sch_netem): %v", err)
	}
	d := NewDriver(r, nil)
	if err := applyAll(t, d, faultAction("fault/h0/netem-f0", &Fault{Kind: "netem", Dev: "f0", LossPct: 100, DelayMS: 5}), pingAction("failure")); err != nil {
		t.Fatalf("with netem: %v", err)
	}
	if err := d.Finish(context.Background(), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tc", "-n", r.ns, "qdisc", "show", "dev", "f0", "root").CombinedOutput()
	if err != nil || strings.Contains(string(out), "netem") {
		t.Errorf("after the run: %s %v", out, err)
	}
	if err := applyAll(t, NewDriver(r, nil), pingAction("success")); err != nil {
		t.Fatalf("after the run: %v", err)
	}
}

// A run killed after its fault leaves the host's record; the next run
// that declares a fault there (a --resume that skips it included) undoes
// it when it ends.
func TestFaultKilledRunUndoneByNext(t *testing.T) {
	r := faultPair(t)
	cut := faultAction("fault/h0/cut-f0", &Fault{Kind: "cut", Dev: "f0"})
	if err := applyAll(t, NewDriver(r, nil), cut); err != nil {
		t.Fatal(err)
	}
	// The killed run's driver never finishes. The next one only plans.
	next := NewDriver(r, nil)
	if _, err := next.Plan(context.Background(), []interp.Action{cut}); err != nil {
		t.Fatal(err)
	}
	if err := applyAll(t, NewDriver(r, nil), pingAction("failure")); err != nil {
		t.Fatalf("still cut before the next run ends: %v", err)
	}
	if err := next.Finish(context.Background(), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	if err := applyAll(t, NewDriver(r, nil), pingAction("success")); err != nil {
		t.Fatalf("after the next run: %v", err)
	}
}
