package libvirttest

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestHost starts a host with Open vSwitch and libvirtd and checks that
// cleanup leaves no namespace, process or file.
func TestHost(t *testing.T) {
	var h *Host
	var pids []int
	t.Run("host", func(t *testing.T) {
		h = Start(t, WithOVS())
		c, err := net.Dial("unix", h.Socket)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		h.AddBridge(t, "br-int")
		if out, err := h.VSCtl("get", "Bridge", "br-int", "datapath_type"); err != nil || strings.TrimSpace(out) != "netdev" {
			t.Errorf("datapath_type = %q, %v", out, err)
		}
		pids = nsPids(h.NS)
		if len(pids) < 4 { // ovsdb-server, ovs-vswitchd, virtlogd, libvirtd
			t.Errorf("pids in %s: %v", h.NS, pids)
		}
		// Nothing of the daemons' own lands in the machine's directories.
		if _, err := os.Stat("/run/libvirt/libvirt-sock"); err == nil {
			t.Error("/run/libvirt/libvirt-sock exists outside the host")
		}
	})
	if h == nil {
		return
	}
	for _, p := range pids {
		if !exited(p) {
			t.Errorf("process %d is still running", p)
		}
	}
	if fileExists("/run/netns/" + h.NS) {
		t.Errorf("namespace %s is left", h.NS)
	}
	if fileExists(h.Dir) {
		t.Errorf("%s is left", h.Dir)
	}
}
