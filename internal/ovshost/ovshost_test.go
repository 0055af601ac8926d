package ovshost_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/libvirttest"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// TestPorts plugs, moves and unplugs a port as the lab's VM driver does,
// against a real ovsdb-server and ovs-vswitchd, and reads the result back
// with ovs-vsctl.
func TestPorts(t *testing.T) {
	h := libvirttest.Start(t, libvirttest.WithOVS())
	h.AddBridge(t, "br-a")
	h.AddBridge(t, "br-b")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if _, err := ovshost.Open(ctx, remote.NewLocal("h0"), filepath.Join(t.TempDir(), "db.sock")); !errors.As(err, new(*ovshost.NotRunningError)) {
		t.Fatalf("no server: %v, want a *NotRunningError", err)
	}
	c, err := ovshost.Open(ctx, remote.NewLocal("h0"), ovshost.Socket(h.OVSRundir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vsctl := func(args ...string) string {
		t.Helper()
		out, err := h.VSCtl(args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}

	if err := c.AddPort(ctx, "br-none", "tap0", nil, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "bridge br-none does not exist") {
		t.Errorf("missing bridge: %v", err)
	}
	ids := map[string]string{"iface-id": "lsp0", "attached-mac": "02:00:00:00:00:01"}
	for _, br := range []string{"br-a", "br-a", "br-b"} { // plug, again (no change), move
		if err := c.AddPort(ctx, br, "tap0", ids, time.Second); err != nil {
			t.Fatalf("add-port %s: %v", br, err)
		}
		if got := vsctl("port-to-br", "tap0"); got != br {
			t.Errorf("tap0 is on %q, want %s", got, br)
		}
		if got, err := c.PortBridge(ctx, "tap0"); err != nil || got != br {
			t.Errorf("PortBridge = %q, %v; want %s", got, err, br)
		}
	}
	if got := vsctl("get", "Interface", "tap0", "external_ids:iface-id"); got != `lsp0` && got != `"lsp0"` {
		t.Errorf("iface-id = %s", got)
	}
	if err := c.SetIfaceExternalIDs(ctx, "tap0", map[string]string{"iface-id": "lsp1"}, time.Second); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.IfaceExternalIDs(ctx, "tap0")
	if err != nil || !ok || got["iface-id"] != "lsp1" || got["attached-mac"] != "02:00:00:00:00:01" {
		t.Errorf("external_ids = %v, %v, %v; want iface-id changed, attached-mac kept", got, ok, err)
	}
	for range 2 { // the second is a no-op, as --if-exists
		if err := c.DelPort(ctx, "tap0"); err != nil {
			t.Fatal(err)
		}
	}
	if got := vsctl("list-ports", "br-b"); got != "" {
		t.Errorf("ports left on br-b: %q", got)
	}
}
