// Package labhost is test support: a lab of emulated hosts on this machine,
// for tests of ovnrun's host drivers against real daemons.
//
// A lab is a client network namespace holding a bridge, plus one namespace
// per host linked to that bridge by a veth. Each host runs its own sshd (own
// host key and config, sessions get the host's OVS_RUNDIR, OVN_RUNDIR...
// and a PATH whose first directory holds a systemctl shim), so Open vSwitch,
// the OVN central daemons and ovn-controller start "through systemd" in the
// host's own directories. The code under test dials hosts from the client
// namespace (Lab.Dial), which has no route out: no packet of a test can
// reach a real network, and Dial refuses any address outside the lab.
//
// A host may instead sit Behind another, on a link only that jump host
// reaches (for ProxyJump), and have non-root users with sudo (WithUsers),
// whose accounts only its sshd sees; WriteSSHConfig names the hosts as an
// ssh_config does.
//
// Cleanup kills every process in the lab's namespaces, deletes them and
// removes the lab's files; a lab left behind by a killed test run is swept
// by the next one.
//
// The namespaces, sshd and systemctl shim are internal/lab's, which builds
// the labs of `ovnrun lab`; this package adds what tests want (a testing.TB,
// options per host, dialling from the client namespace). It must only be
// imported by tests.
package labhost

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// nsPrefix starts the name of every namespace a lab creates, followed by
// the creating process's PID so that stale labs can be recognized.
const nsPrefix = "ovnlab-"

var labCount atomic.Int32

// Lab is a set of emulated hosts reachable from a client namespace.
type Lab struct {
	t        testing.TB
	Dir      string       // the lab's files
	ClientNS string       // the namespace Dial dials from
	Subnet   netip.Prefix // the lab link's network
	// ClientKey is a private key file (OpenSSH format, no passphrase)
	// every host accepts for root; KnownHosts holds every host's key.
	ClientKey  string
	KnownHosts string
	id         string
	hosts      []*Host
}

// New creates an empty lab, removed when the test ends. It skips the test
// (fails it under CI=true) when not root or when a binary is missing.
func New(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	sweepStale()
	n := labCount.Add(1)
	l := &Lab{t: t, id: fmt.Sprintf("%d-%d", os.Getpid(), n),
		Subnet: netip.MustParsePrefix(fmt.Sprintf("10.213.%d.0/24", n%250))}
	dir, err := os.MkdirTemp("/tmp", nsPrefix+l.id+"-")
	if err != nil {
		t.Fatal(err)
	}
	l.Dir = dir
	l.ClientNS = nsPrefix + l.id + "-client"
	t.Cleanup(l.close)
	l.must(lab.Run("ip", "netns", "add", l.ClientNS))
	l.ip("link", "set", "lo", "up")
	l.ip("link", "add", "br0", "type", "bridge")
	l.ip("addr", "add", l.addr(1)+"/24", "dev", "br0")
	l.ip("link", "set", "br0", "up")

	key, pub := newKey(t)
	l.ClientKey = filepath.Join(dir, "client_ed25519")
	l.must(lab.WriteKey(l.ClientKey, key, nil))
	l.must(os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600))
	l.KnownHosts = filepath.Join(dir, "known_hosts")
	l.must(os.WriteFile(l.KnownHosts, nil, 0o600))
	return l
}

// addr returns the lab link's address number i.
func (l *Lab) addr(i int) string {
	a := l.Subnet.Addr().As4()
	a[3] = byte(i)
	return netip.AddrFrom4(a).String()
}

// UnusedAddr is an address on the lab link that no host has: dialling it
// fails (no ARP answer) without leaving the lab.
func (l *Lab) UnusedAddr() string { return l.addr(250) }

func (l *Lab) ip(args ...string) {
	l.t.Helper()
	l.must(lab.Run("ip", append([]string{"-n", l.ClientNS}, args...)...))
}

func (l *Lab) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatalf("labhost: %v", err)
	}
}

// Dial opens a connection from the client namespace. It refuses addresses
// outside the lab and loopback, so a test can never reach a real lab.
func (l *Lab) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !(l.Subnet.Contains(ip) || ip.IsLoopback()) {
		return nil, fmt.Errorf("labhost: refusing to dial %s: not an address of the lab %s", address, l.Subnet)
	}
	var conn net.Conn
	err = lab.InNamespace(l.ClientNS, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, network, address)
		return err
	})
	return conn, err
}

// Hosts returns the lab's hosts in creation order.
func (l *Lab) Hosts() []*Host { return l.hosts }

// Inventory returns an ovnrun inventory (JSON) that reaches every host of
// the lab with the client key and checks keys against KnownHosts. extra
// adds or overrides fields per host name.
func (l *Lab) Inventory(extra map[string]map[string]any) []byte {
	hosts := map[string]map[string]any{}
	for _, h := range l.hosts {
		e := map[string]any{"address": h.Addr, "port": 22, "user": "root", "identity_file": l.ClientKey,
			"ovs_rundir": h.OVSRundir, "ovn_rundir": h.OVNRundir}
		for k, v := range extra[h.Name] {
			if v == nil {
				delete(e, k)
			} else {
				e[k] = v
			}
		}
		hosts[h.Name] = e
	}
	data, err := json.MarshalIndent(map[string]any{"known_hosts": l.KnownHosts, "hosts": hosts}, "", "  ")
	if err != nil {
		l.t.Fatal(err)
	}
	return data
}

// WriteKnownHosts writes a known_hosts file holding the keys of hosts (all
// of the lab's when none are given) and returns its path.
func (l *Lab) WriteKnownHosts(name string, hosts ...*Host) string {
	if len(hosts) == 0 {
		hosts = l.hosts
	}
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.Addr)}, h.HostKey) + "\n")
	}
	path := filepath.Join(l.Dir, name)
	l.must(os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// close tears the lab down: every process in its namespaces, the
// namespaces, its files.
func (l *Lab) close() {
	for _, h := range l.hosts {
		if l.t.Failed() {
			h.logTails(l.t)
		}
		h.stopSSHD()
	}
	for i := len(l.hosts) - 1; i >= 0; i-- {
		if err := lab.RemoveNamespace(l.hosts[i].NS); err != nil {
			l.t.Errorf("labhost: %v", err)
		}
	}
	if err := lab.RemoveNamespace(l.ClientNS); err != nil {
		l.t.Errorf("labhost: %v", err)
	}
	os.RemoveAll(l.Dir)
}
