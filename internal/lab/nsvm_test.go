package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/interp"
)

// halfMadeNamespace leaves in /run/netns what `ip netns add` leaves when it
// is stopped between creating the namespace's file and mounting the
// namespace on it: a plain file. Removed at the end of the test.
func halfMadeNamespace(t *testing.T, ns string) {
	t.Helper()
	if err := os.WriteFile(NamespacePath(ns), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(NamespacePath(ns)) })
}

// TestOutputWithHalfMadeNamespaces reads a VM's NICs while another
// namespace is half made, as the kill test did while other test packages
// made namespaces beside it: iproute2 then warns "Peer netns reference is
// invalid" on stderr, which Output once returned with the NIC list, so a
// VM with one NIC was read as having two.
func TestOutputWithHalfMadeNamespaces(t *testing.T) {
	require(t)
	prefix := fmt.Sprintf("t%d-out", os.Getpid())
	halfMadeNamespace(t, prefix+"-0half")
	a, b := prefix+"-a", prefix+"-b"
	for _, ns := range []string{a, b} {
		if err := AddNamespace(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { RemoveNamespace(ns) })
	}
	halfMadeNamespace(t, prefix+"-zhalf")
	if err := Run("ip", "-n", a, "link", "add", "nic0", "type", "veth", "peer", "name", "nic0", "netns", b); err != nil {
		t.Fatal(err)
	}
	out, err := Output("ip", "-n", b, "-o", "link", "show", "type", "veth")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "2: nic0@") {
		t.Errorf("one veth read as %d lines:\n%s", len(lines), out)
	}
	// The warning is still there when a command fails.
	_, err = Output("sh", "-c", "echo out; echo the reason >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "the reason") {
		t.Errorf("a failed command's error lacks its stderr: %v", err)
	}
}

// TestVMDriverHalfMadeVM: a VM whose namespace file holds no namespace (its
// ip netns add was stopped halfway) is planned as to create and made, not
// taken as existing; every NIC plugged into it would fail else.
func TestVMDriverHalfMadeVM(t *testing.T) {
	require(t)
	name := fmt.Sprintf("t%dhalf", os.Getpid())
	l := &Lab{Name: name, Dir: t.TempDir(), Hosts: []*Host{{Name: "h0", NS: hostNS(name, "h0")}}}
	d := NewVMDriver(l)
	vm := &virt.Domain{ActionMeta: interp.ActionMeta{M: interp.Meta{ID: "vm/h0/v0", Kind: "vm", Name: "h0/v0", Host: "h0", Driver: "libvirt"}}, Domain: "v0"}
	ns := l.VMNS("h0", "v0")
	halfMadeNamespace(t, ns)
	t.Cleanup(func() { RemoveNamespace(ns) })
	ctx := context.Background()
	plan := func() interp.Change {
		t.Helper()
		cs, err := d.Plan(ctx, []interp.Action{vm})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	c := plan()
	if c.Op != interp.OpCreate || !strings.Contains(c.Note, "holds no namespace") {
		t.Fatalf("a half-made VM is planned %s (%s), want create", c.Op, c.Note)
	}
	if _, err := d.Apply(ctx, []interp.Change{c}); err != nil {
		t.Fatal(err)
	}
	if out, err := Output("ip", "-n", ns, "-o", "link", "show", "lo"); err != nil || !strings.Contains(out, "UP") {
		t.Fatalf("the VM's namespace after apply: %v %q", err, out)
	}
	if c := plan(); c.Op != interp.OpUnchanged {
		t.Errorf("second plan: %s, want unchanged", c.Op)
	}
}

// TestNamespaceAddrs reads a namespace's usable global addresses in
// process, as a check waiting for a lease does: not the link-local ones,
// not an IPv6 address still in duplicate address detection, and each
// family's own.
func TestNamespaceAddrs(t *testing.T) {
	require(t)
	ns := fmt.Sprintf("t%d-addrs", os.Getpid())
	if err := AddNamespace(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveNamespace(ns) })
	got := func() []string {
		t.Helper()
		addrs, err := namespaceAddrs(ns)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range addrs {
			out = append(out, a.String())
		}
		return out
	}
	if a := got(); len(a) != 0 {
		t.Errorf("a namespace with only lo: %v, want none", a)
	}
	if err := batch(ns, []string{
		"link add nic0 type veth peer name peer0", "link set nic0 up", "link set peer0 up",
		"addr add 10.9.8.7/24 dev nic0",
		"addr add 169.254.1.1/16 dev nic0 scope link",
		"addr add fd00::7/64 dev nic0 nodad",
	}); err != nil {
		t.Fatal(err)
	}
	if a := strings.Join(got(), " "); a != "10.9.8.7 fd00::7" {
		t.Errorf("addresses %q, want %q", a, "10.9.8.7 fd00::7")
	}
	// Tentative: an address under duplicate address detection (a second or
	// so on a link with a carrier); read it straight away.
	if err := batch(ns, []string{"link add nic1 type veth peer name peer1", "link set nic1 up", "link set peer1 up",
		"addr add fd00:1::1/64 dev nic1"}); err != nil {
		t.Fatal(err)
	}
	out, err := Output("ip", "-n", ns, "-6", "-o", "addr", "show", "dev", "nic1")
	if err != nil {
		t.Fatal(err)
	}
	a := strings.Join(got(), " ")
	if strings.Contains(out, "tentative") && strings.Contains(a, "fd00:1::1") {
		t.Errorf("a tentative address was read as usable: %q (ip says %q)", a, out)
	}
}

// TestTxOff turns TX checksumming off on a veth in a namespace, as the lab
// does for every veth its packets cross, and ethtool itself reads it back
// (a packet crossing the userspace datapath with a partial checksum is
// dropped by the kernel that receives it).
func TestTxOff(t *testing.T) {
	require(t)
	if _, err := LookPath("ethtool"); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("t%d-txoff", os.Getpid())
	if err := AddNamespace(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveNamespace(ns) })
	if err := batch(ns, []string{"link add nic0 type veth peer name nic1"}); err != nil {
		t.Fatal(err)
	}
	tx := func(dev string) string {
		t.Helper()
		out, err := Output("ip", "netns", "exec", ns, "ethtool", "-k", dev)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, "tx-checksumming: "); ok {
				return v
			}
		}
		t.Fatalf("ethtool -k %s has no tx-checksumming:\n%s", dev, out)
		return ""
	}
	if v := tx("nic0"); v != "on" {
		t.Fatalf("a new veth's tx-checksumming is %q, want on to start with", v)
	}
	if err := txOff(ns, "nic0"); err != nil {
		t.Fatal(err)
	}
	if v := tx("nic0"); v != "off" {
		t.Errorf("tx-checksumming %q after txOff, want off", v)
	}
	if v := tx("nic1"); v != "on" {
		t.Errorf("the other end's tx-checksumming %q, want it left on", v)
	}
	if err := txOff(ns, "nosuch"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("txOff of a missing device: %v, want an error naming it", err)
	}
}

// TestGuestEcho: a VM's echo socket is opened in the VM's namespace. Two
// test-made VMs on a veth: one's requests reach the other, which answers;
// requests to an address nobody has go unanswered until the timeout; a
// VM that does not exist is an error.
func TestGuestEcho(t *testing.T) {
	require(t)
	l := &Lab{Name: fmt.Sprintf("t%d", os.Getpid())}
	a, b := l.VMNS("h0", "a"), l.VMNS("h0", "b")
	for _, ns := range []string{a, b} {
		if err := AddNamespace(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { RemoveNamespace(ns) })
	}
	if err := batch(a, []string{"link add nic0 type veth peer name nic1", "link set nic1 netns " + b,
		"addr add 10.9.9.1/24 dev nic0", "link set nic0 up"}); err != nil {
		t.Fatal(err)
	}
	if err := batch(b, []string{"addr add 10.9.9.2/24 dev nic1", "link set nic1 up"}); err != nil {
		t.Fatal(err)
	}
	d := NewVMDriver(l)
	ctx := context.Background()
	c, err := d.GuestEcho("h0", "a", netip.MustParseAddr("10.9.9.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, _, err := c.FirstReply(ctx, 200*time.Millisecond, 10*time.Second); err != nil {
		t.Fatalf("a -> b: %v after %d requests", err, n)
	}
	if st, err := c.Round(ctx, 3, 50*time.Millisecond, time.Second); err != nil || st.Received != 3 {
		t.Fatalf("a -> b round: %+v, %v; want 3 replies", st, err)
	}
	none, err := d.GuestEcho("h0", "a", netip.MustParseAddr("10.9.9.3"))
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	start := time.Now()
	if _, _, err := none.FirstReply(ctx, 200*time.Millisecond, time.Second); err == nil {
		t.Fatal("a -> 10.9.9.3 (nobody): a reply")
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("no reply: gave up after %s, before its timeout", d)
	}
	if _, err := d.GuestEcho("h0", "c", netip.MustParseAddr("10.9.9.2")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a VM that does not exist: %v", err)
	}
}
