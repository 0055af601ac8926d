package check

import (
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

	"github.com/ovnrun/ovnrun/internal/impair"
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

// TestMain lets the test binary be `ovnrun lab impair`, which the netem
// fault starts on a host whose kernel has no netem.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "lab" && os.Args[2] == "impair" {
		os.Exit(impair.Main(os.Args[3:], os.Stderr))
	}
	os.Exit(m.Run())
}

var (
	rttMin   = regexp.MustCompile(`min/avg/max(?:/mdev)? = ([0-9.]+)/`)
	received = regexp.MustCompile(`(\d+) (?:packets )?received`)
)

// pingFromH0 pings h1 from h0 n times and returns the replies and the
// smallest round trip (0 without replies).
func pingFromH0(t *testing.T, r nsRunner, n int) (replies int, min time.Duration) {
	t.Helper()
	res, err := r.Run(context.Background(), "h0", remote.Script(fmt.Sprintf("ping -c %d -i 0.2 -W 1 10.7.0.2", n)))
	if err != nil {
		t.Fatal(err)
	}
	m := received.FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("ping says:\n%s%s", res.Stdout, res.Stderr)
	}
	replies, _ = strconv.Atoi(m[1])
	if m := rttMin.FindStringSubmatch(res.Stdout); m != nil {
		ms, _ := strconv.ParseFloat(m[1], 64)
		min = time.Duration(ms * float64(time.Millisecond))
	}
	return replies, min
}

// netemOn applies a netem fault on f0 with d and says how it was made.
func netemOn(t *testing.T, d *Driver, delay, loss int) *Fault {
	t.Helper()
	f := faultAction("fault/h0/netem-f0", &Fault{Kind: "netem", Dev: "f0", DelayMS: delay, LossPct: loss})
	cs, err := d.Plan(context.Background(), []interp.Action{f})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(context.Background(), cs); err != nil {
		t.Fatalf("netem delay %d loss %d: %v", delay, loss, err)
	}
	return f
}

// undoneNetem fails t unless d's end of run left f0 as it was: no netem or
// clsact qdisc, no impairer, no tap, no record.
func undoneNetem(t *testing.T, r nsRunner, d *Driver, f *Fault, pid int) {
	t.Helper()
	if err := d.Finish(context.Background(), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	tap, _ := impairNames(f)
	qd, _ := lab.Output("tc", "-n", r.ns, "qdisc", "show", "dev", "f0")
	links, _ := lab.Output("ip", "-n", r.ns, "-o", "link", "show")
	recs, _ := os.ReadDir(filepath.Join(r.rundir, "ovnrun-faults"))
	if strings.Contains(qd, "netem") || strings.Contains(qd, "clsact") || strings.Contains(links, tap) || len(recs) > 0 {
		t.Errorf("after the run: qdiscs %q, links %q, %d records", qd, links, len(recs))
	}
	if pid > 0 {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil && !regexp.MustCompile(`(?m)^State:\s+Z`).Match(st) {
			t.Errorf("after the run, the impairer (pid %d) still runs", pid)
		}
	}
}

// TestFaultNetem adds delay and loss to what h0 sends on its veth: netem
// where the kernel has it, else (and also, there, when preferred) the
// impairer, as in the emulated lab. Each is undone when the run ends.
func TestFaultNetem(t *testing.T) {
	r := faultPair(t)
	hasNetem := lab.Run("ip", "netns", "exec", r.ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms") == nil
	if hasNetem {
		lab.Run("ip", "netns", "exec", r.ns, "tc", "qdisc", "del", "dev", "lo", "root")
	}
	t.Run("outside a lab", func(t *testing.T) {
		d := NewDriver(r, nil)
		f := faultAction("fault/h0/netem-f0", &Fault{Kind: "netem", Dev: "f0", DelayMS: 100})
		err := applyAll(t, d, f)
		switch {
		case hasNetem && err != nil:
			t.Fatal(err)
		case !hasNetem && (err == nil || !strings.Contains(err.Error(), "has no netem qdisc (module sch_netem)")):
			t.Fatalf("without netem and outside a lab: %v; want the module named", err)
		}
		undoneNetem(t, r, d, f, 0)
	})
	prefer := []bool{false}
	if hasNetem {
		prefer = append(prefer, true) // the impairer, on this kernel too
	}
	const delay = 200 // ms
	for _, p := range prefer {
		t.Run(fmt.Sprintf("prefer impairer %v", p), func(t *testing.T) {
			labDriver := func() *Driver {
				d := NewDriver(r, nil)
				d.impair, d.preferImpair = []string{os.Args[0], "lab", "impair"}, p
				return d
			}
			if n, min := pingFromH0(t, r, 3); n != 3 || min >= delay*time.Millisecond {
				t.Fatalf("before the fault: %d/3 replies, min rtt %v", n, min)
			}
			d := labDriver()
			f := netemOn(t, d, delay, 0)
			pid := impairerPID(r, f)
			if impairing := pid > 0; impairing != (p || !hasNetem) {
				t.Errorf("impairer pid %d, with netem %v and prefer %v", pid, hasNetem, p)
			}
			if n, min := pingFromH0(t, r, 3); n != 3 || min < delay*time.Millisecond {
				t.Errorf("with delay_ms %d: %d/3 replies, min rtt %v", delay, n, min)
			}
			undoneNetem(t, r, d, f, pid)
			if n, min := pingFromH0(t, r, 3); n != 3 || min >= delay*time.Millisecond {
				t.Errorf("after the run: %d/3 replies, min rtt %v", n, min)
			}

			d = labDriver()
			f = netemOn(t, d, 0, 100)
			if n, _ := pingFromH0(t, r, 3); n != 0 {
				t.Errorf("with loss_pct 100: %d/3 replies", n)
			}
			undoneNetem(t, r, d, f, impairerPID(r, f))

			d = labDriver()
			f = netemOn(t, d, 1, 0)
			if n, _ := pingFromH0(t, r, 5); n != 5 {
				t.Errorf("with loss_pct 0: %d/5 replies", n)
			}
			undoneNetem(t, r, d, f, impairerPID(r, f))
			if n, _ := pingFromH0(t, r, 3); n != 3 {
				t.Errorf("after the runs: %d/3 replies", n)
			}
		})
	}
}

// impairerPID is the pid of f's impairer, or 0 when none runs.
func impairerPID(r nsRunner, f *Fault) int {
	tap, _ := impairNames(f)
	b, _ := os.ReadFile(filepath.Join(r.rundir, "ovnrun-impair-"+strings.TrimPrefix(tap, "ovnimp")+".pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
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
