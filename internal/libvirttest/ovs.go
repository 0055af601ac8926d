package libvirttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startOVS starts ovsdb-server and ovs-vswitchd in the namespace, with the
// Open vSwitch and OVN directories under the test's, and exports them to
// every later process (libvirtd's ovs-vsctl, Exec, ovn-controller).
func (h *Host) startOVS() {
	h.t.Helper()
	ovs, ovn := filepath.Join(h.Dir, "ovs"), filepath.Join(h.Dir, "ovn")
	for _, d := range []string{ovs, ovn} {
		h.must(os.MkdirAll(d, 0o755))
	}
	h.OVSRundir = ovs
	for _, k := range []string{"OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"} {
		h.env = append(h.env, k+"="+ovs)
	}
	for _, k := range []string{"OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR", "OVN_SYSCONFDIR"} {
		h.env = append(h.env, k+"="+ovn)
	}
	db := filepath.Join(ovs, "conf.db")
	h.must(run("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"))
	sock := filepath.Join(ovs, "db.sock")
	srv := h.start("ovsdb-server", "ip", "netns", "exec", h.NS, "ovsdb-server", db,
		"--remote=punix:"+sock, "--unixctl="+filepath.Join(ovs, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(ovs, "ovsdb-server.log"), "-vconsole:off", "-vsyslog:off")
	h.must(srv.Start())
	h.waitFor("ovsdb-server", srv, func() error { _, err := os.Stat(sock); return err })
	if _, err := h.Exec("ovs-vsctl", "--no-wait", "init"); err != nil {
		h.t.Fatalf("libvirttest: %v", err)
	}
	sw := h.start("ovs-vswitchd", "ip", "netns", "exec", h.NS, "ovs-vswitchd", "unix:"+sock,
		"--unixctl="+filepath.Join(ovs, "ovs-vswitchd.ctl"),
		"--log-file="+filepath.Join(ovs, "ovs-vswitchd.log"), "-vconsole:off", "-vsyslog:off")
	h.must(sw.Start())
	h.waitFor("ovs-vswitchd", sw, func() error {
		_, err := h.Exec("ovs-appctl", "-t", filepath.Join(ovs, "ovs-vswitchd.ctl"), "version")
		return err
	})
}

// VSCtl runs ovs-vsctl against the host's Open vSwitch.
func (h *Host) VSCtl(args ...string) (string, error) {
	if h.OVSRundir == "" {
		return "", fmt.Errorf("libvirttest: host has no Open vSwitch (start it WithOVS)")
	}
	return h.Exec(append([]string{"ovs-vsctl", "--timeout=20"}, args...)...)
}

// AddBridge adds a userspace-datapath bridge.
func (h *Host) AddBridge(t testing.TB, name string) {
	t.Helper()
	if _, err := h.VSCtl("--may-exist", "add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev"); err != nil {
		t.Fatal(err)
	}
}

// StartOVNController makes the host a chassis named systemID of the OVN
// whose Southbound listens on sbSock (a unix socket path) and returns once
// ovn-controller has registered it. The integration bridge is br-int, of
// the userspace datapath.
func (h *Host) StartOVNController(t testing.TB, sbSock, systemID string) {
	t.Helper()
	if _, err := h.VSCtl("set", "Open_vSwitch", ".",
		"external_ids:system-id="+systemID,
		"external_ids:ovn-remote=unix:"+strings.TrimPrefix(sbSock, "unix:"),
		"external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip=127.0.0.1",
		"external_ids:ovn-bridge-datapath-type=netdev"); err != nil {
		t.Fatal(err)
	}
	// ovn-controller takes no --unixctl: ovn-appctl finds it by its
	// pidfile in OVN_RUNDIR.
	ovn := filepath.Join(h.Dir, "ovn")
	c := h.start("ovn-controller", "ip", "netns", "exec", h.NS, "ovn-controller",
		"unix:"+filepath.Join(h.OVSRundir, "db.sock"), "--pidfile",
		"--log-file="+filepath.Join(ovn, "ovn-controller.log"), "-vconsole:off", "-vsyslog:off")
	h.must(c.Start())
	h.waitFor("ovn-controller", c, func() error {
		out, err := h.Exec("ovn-appctl", "-t", "ovn-controller", "connection-status")
		if err == nil && strings.TrimSpace(out) != "connected" {
			err = fmt.Errorf("ovn-controller is %s", strings.TrimSpace(out))
		}
		return err
	})
}

// Port is a network namespace plugged into a bridge of the host by a veth
// whose OVS end carries an iface-id: a stand-in VM without a kernel of its
// own, to ping guests from.
type Port struct {
	NS string
	h  *Host
}

// AddPort creates a namespace with interface eth0 (mac, addr as CIDR)
// plugged into bridge with external_ids:iface-id=ifaceID.
func (h *Host) AddPort(t testing.TB, bridge, name, mac, addr, ifaceID string) *Port {
	t.Helper()
	p := &Port{NS: h.NS + "-" + name, h: h}
	t.Cleanup(func() {
		if err := removeNamespace(p.NS); err != nil {
			t.Errorf("libvirttest: %v", err)
		}
	})
	h.must(run("ip", "netns", "add", p.NS))
	veth := "p-" + name
	steps := [][]string{
		{"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.NS},
		{"ip", "link", "set", veth, "up"},
		{"ovs-vsctl", "--timeout=20", "add-port", bridge, veth, "--", "set", "Interface", veth, "external_ids:iface-id=" + ifaceID},
	}
	for _, s := range steps {
		if _, err := h.Exec(s...); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", "eth0", "address", mac},
		{"addr", "add", addr, "dev", "eth0"},
		{"link", "set", "eth0", "up"},
	} {
		h.must(run("ip", append([]string{"-n", p.NS}, s...)...))
	}
	return p
}

// Ping sends one ping from the port's namespace, waiting at most a second.
func (p *Port) Ping(addr string) error {
	return run("ip", "netns", "exec", p.NS, "busybox", "ping", "-c", "1", "-W", "1", addr)
}

// WaitFor polls cond every 100 ms until it returns nil or timeout passes,
// and returns its last error.
func WaitFor(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
