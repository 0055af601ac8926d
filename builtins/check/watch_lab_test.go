package check

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// nsGuests runs a VM's commands in the namespace ns, as the lab's
// namespace VMs do: the test's VM "v0" of h0.
type nsGuests struct{ ns, bin string }

func (g nsGuests) GuestExec(ctx context.Context, host, vm string, argv []string) (*remote.Result, error) {
	return nsRunner{ns: g.ns, rundir: os.DevNull, bin: g.bin}.Run(ctx, host+"/"+vm, remote.Argv(argv...))
}

func watchAction(guest, dst string) *PingWatch {
	src := "h0"
	if guest != "" {
		src += "/" + guest
	}
	w := &PingWatch{Src: src, Guest: guest, Dst: dst, IntervalMS: 100, TimeoutS: 5}
	w.M = interp.Meta{Kind: "ping_watch", Name: src + " -> " + dst, Mode: interp.Command, Driver: DriverName,
		Host: "h0", ID: "ping_watch/" + src + "->" + dst}
	return w
}

// watchRecordsLeft lists the records of watches on r's host.
func watchRecordsLeft(t *testing.T, r nsRunner) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "ls "+r.rundir+"/ovnrun-watches 2>/dev/null; true").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

// A watch that no outage() stopped is stopped when the run ends (it failed
// or was interrupted); one left by a run killed outright is stopped by the
// next run that watches from that host: when it starts a watch of the same
// ID, or else when it ends. Both from the host and from a VM.
func TestWatchStoppedWithoutOutage(t *testing.T) {
	r := faultPair(t)
	n1 := strings.TrimSuffix(r.ns, "-0") + "-1"
	g := nsGuests{ns: n1, bin: r.bin}
	fromHost, fromVM := watchAction("", "10.7.0.2"), watchAction("v0", "10.7.0.1")
	t.Cleanup(func() {
		for _, ns := range []string{r.ns, n1} {
			for _, p := range nsPids(t, ns, "ping") {
				exec.Command("kill", "-KILL", p).Run()
			}
		}
	})
	pings := func(when string, host, vm int) {
		t.Helper()
		if h, v := len(nsPids(t, r.ns, "ping")), len(nsPids(t, n1, "ping")); h != host || v != vm {
			t.Fatalf("%s: %d pings run on h0 and %d in v0, want %d and %d", when, h, v, host, vm)
		}
	}
	finish := func(d *Driver, want ...string) {
		t.Helper()
		var log strings.Builder
		if err := d.Finish(context.Background(), &log); err != nil {
			t.Fatalf("finish: %v\n%s", err, log.String())
		}
		for _, w := range want {
			if !strings.Contains(log.String(), "stopped the background ping "+w) {
				t.Errorf("the end of the run said %q, want it to name %s", log.String(), w)
			}
		}
	}

	// A run that ends between its watches and their outage().
	d := NewDriver(r, g)
	if err := applyAll(t, d, fromHost, fromVM); err != nil {
		t.Fatalf("ping_watch: %v", err)
	}
	pings("the watches started", 1, 1)
	finish(d, "h0 -> 10.7.0.2", "h0/v0 -> 10.7.0.1")
	pings("after the run ended", 0, 0)
	if left := watchRecordsLeft(t, r); len(left) != 0 {
		t.Errorf("records left after the run ended: %v", left)
	}

	// A run killed after its watches: no Finish.
	if err := applyAll(t, NewDriver(r, g), fromHost, fromVM); err != nil {
		t.Fatalf("ping_watch: %v", err)
	}
	pings("the killed run's watches", 1, 1)
	// The next run watches from the host again, to its outage().
	o := &Outage{Watch: fromHost.M.ID, Label: fromHost.M.Name, MaxOutageS: 5}
	o.M = interp.Meta{Kind: "outage", Name: o.Label, Mode: interp.Command, Driver: DriverName, Host: "h0",
		ID: "outage/" + strings.TrimPrefix(fromHost.M.ID, "ping_watch/")}
	d = NewDriver(r, g)
	if err := applyAll(t, d, fromHost); err != nil {
		t.Fatalf("ping_watch again: %v", err)
	}
	pings("the next run's watch started", 1, 1)
	if err := applyAll(t, d, o); err != nil {
		t.Fatalf("outage: %v", err)
	}
	pings("after the next run's outage()", 0, 1)
	finish(d, "h0/v0 -> 10.7.0.1")
	pings("after the next run ended", 0, 0)
	if left := watchRecordsLeft(t, r); len(left) != 0 {
		t.Errorf("records left after the next run ended: %v", left)
	}
}
