package labhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// TestLabHost builds a host, starts Open vSwitch through the systemctl
// shim, and checks that cleanup leaves no namespace, process or file.
func TestLabHost(t *testing.T) {
	var l *Lab
	var h *Host
	var pids []int
	t.Run("lab", func(t *testing.T) {
		l = New(t)
		h = l.AddHost("h0", WithOVS(), WithInterfaces("ens2f1"))
		out, err := h.Exec("systemctl", "is-active", "openvswitch")
		if err != nil || strings.TrimSpace(out) != "active" {
			t.Fatalf("is-active openvswitch = %q, %v", out, err)
		}
		if out, err := h.Exec("ovs-vsctl", "--if-exists", "get", "Open_vSwitch", ".", "external_ids:system-id"); err != nil || len(strings.TrimSpace(out)) < 30 {
			t.Errorf("system-id = %q, %v", out, err)
		}
		if _, err := os.Stat(filepath.Join(h.OVSRundir, "db.sock")); err != nil {
			t.Error(err)
		}
		if _, err := l.Dial(context.Background(), "tcp", "177.1.1.1:22"); err == nil || !strings.Contains(err.Error(), "refusing to dial") {
			t.Errorf("dial outside the lab: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := l.Dial(ctx, "tcp", h.Addr+":22")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		pids = h.Pids()
		if len(pids) < 3 { // sshd, ovsdb-server, ovs-vswitchd
			t.Errorf("pids in %s: %v", h.NS, pids)
		}
	})
	if l == nil {
		return
	}
	for _, pid := range pids {
		if !lab.Gone(pid) {
			t.Errorf("process %d is still running", pid)
		}
	}
	for _, ns := range []string{l.ClientNS, h.NS} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			t.Errorf("namespace %s is left", ns)
		}
	}
	if _, err := os.Stat(l.Dir); err == nil {
		t.Errorf("%s is left", l.Dir)
	}
}
