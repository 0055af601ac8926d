package check

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// lateLease is a VM driver whose VM h0/v0 gets its address only after the
// check has looked for it twice, as a VM whose DHCP lease comes late.
type lateLease struct {
	GuestRunner
	l      *lab.Lab
	mu     sync.Mutex
	probes int
}

func (g *lateLease) GuestExec(ctx context.Context, host, vm string, argv []string) (*remote.Result, error) {
	if argv[0] == "ip" {
		g.mu.Lock()
		g.probes++
		if g.probes == 2 {
			if err := lab.Run("ip", "-n", g.l.VMNS("h0", "v0"), "addr", "add", "10.1.1.1/29", "dev", "a1"); err != nil {
				g.mu.Unlock()
				return nil, err
			}
		}
		g.mu.Unlock()
	}
	return g.GuestRunner.GuestExec(ctx, host, vm, argv)
}

// TestPingWaitsForAddress: a ping from a VM spends its timeout_s on the
// path, not on the VM's lease. v0 has no address when the check starts and
// gets it only once the check has looked for it; with timeout_s=1 the ping
// would otherwise have given up ("Network is unreachable").
func TestPingWaitsForAddress(t *testing.T) {
	l := tcpLab(t, "lease", true) // busybox ip and ping, as in a guest of the guest kit
	for _, dev := range []string{"a1", "a2"} {
		if err := lab.Run("ip", "-n", l.VMNS("h0", "v0"), "addr", "flush", "dev", dev); err != nil {
			t.Fatal(err)
		}
	}
	g := &lateLease{GuestRunner: lab.NewVMDriver(l), l: l}
	p := &Ping{Src: "h0/v0", Guest: "v0", Dst: "10.1.1.2", Count: 3, TimeoutS: 1, Expect: "success"}
	p.M = interp.Meta{ID: "ping/x", Kind: "ping", Name: "h0/v0 -> 10.1.1.2", Mode: interp.Command, Driver: "check", Host: "h0"}
	out, err := apply(t, NewDriver(nil, g), p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 sent, 3 received, 0% loss") || g.probes < 2 {
		t.Errorf("after %d looks for the address: %s", g.probes, out)
	}
}
