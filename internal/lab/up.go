package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sys/unix"
)

// Requirements lists what this machine lacks to run a lab: root, and the
// binaries of the hosts (scripts/install-deps.sh installs them).
func Requirements() []string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, b := range []string{"ip", "ethtool", "sshd", "ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl",
		"ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "timeout", "busybox"} {
		if _, err := LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	return missing
}

// Up brings the lab of spec up and returns it, or returns the lab that is
// already up when it was built for the same hosts (created is then false).
// A lab of that name built for other hosts is an error; a lab left half up
// by a failure is torn down and built again.
func Up(spec Spec, log io.Writer) (l *Lab, created bool, err error) {
	if err := checkName(spec.Name); err != nil {
		return nil, false, err
	}
	if missing := Requirements(); len(missing) > 0 {
		return nil, false, fmt.Errorf("lab: this machine lacks %s (run scripts/install-deps.sh as root)", strings.Join(missing, ", "))
	}
	switch spec.VMs {
	case "", VMsNS:
	case VMsQEMU:
		if err := qemuRequirements(); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, fmt.Errorf("lab: VMs %q: want %s or %s", spec.VMs, VMsNS, VMsQEMU)
	}
	unlock, err := lock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if old, err := Open(spec.Name); err == nil {
		if diff := old.matches(spec); diff != "" {
			return nil, false, fmt.Errorf("lab %s is up, but not for this runbook as it is now: %s; tear it down first: ovnrun lab down %s", spec.Name, diff, spec.Name)
		}
		return old, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if err := down(spec.Name); err != nil { // what a failed lab up left
		return nil, false, err
	}
	if err := fitNeighbours(len(spec.Hosts), log); err != nil {
		return nil, false, err
	}
	start := time.Now()
	l, err = build(spec)
	if err != nil {
		if derr := down(spec.Name); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, false, err
	}
	vms := ""
	if l.VMKind() == VMsQEMU {
		vms = ", a libvirtd on each for QEMU guests"
	}
	fmt.Fprintf(log, "Lab %s is up (%d hosts%s, %s).\n", l.Name, len(l.Hosts), vms, time.Since(start).Round(time.Millisecond))
	return l, true, nil
}

func build(spec Spec) (*Lab, error) {
	l := &Lab{Name: spec.Name, Runbook: spec.Runbook, Dir: filepath.Join(BaseDir(), spec.Name),
		CtlNS: ctlNS(spec.Name), VMs: spec.VMs, Created: time.Now().UTC().Round(time.Second)}
	if l.VMs == VMsNS {
		l.VMs = "" // as labs of older builds
	}
	ctl, addrs := addresses(spec)
	l.CtlAddr = ctl
	for i, hs := range spec.Hosts {
		l.Hosts = append(l.Hosts, &Host{Name: hs.Name, Declared: hs.Address, Address: addrs[i].Addr().String(), PrefixLen: addrs[i].Bits(),
			NS: hostNS(l.Name, hs.Name), Ifaces: hs.Ifaces, Dir: l.hostDir(hs.Name)})
	}
	for _, d := range []string{l.Dir, l.TmpDir(), l.BinDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	if err := l.writeFiles(); err != nil {
		return nil, err
	}
	if err := l.network(); err != nil {
		return nil, err
	}
	keys := make([]ssh.PublicKey, len(l.Hosts))
	errs := make([]error, len(l.Hosts))
	var wg sync.WaitGroup
	for i, h := range l.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = l.startHost(h)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := l.writeAccess(keys); err != nil {
		return nil, err
	}
	return l, l.save()
}

// writeFiles writes the lab's own files: the key ovnrun logs in with,
// and the commands of its VMs.
func (l *Lab) writeFiles() error {
	key, pub, err := NewKey()
	if err == nil {
		err = WriteKey(l.KeyPath(), key, nil)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(l.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600)
	}
	if err == nil {
		err = linkPing(l.BinDir())
	}
	if err == nil {
		err = os.WriteFile(l.dhcpScript(), []byte(dhcpScript), 0o755)
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// linkPing makes busybox the ping of dir when this machine has no ping
// (Debian's minimal images do not): the check driver pings from hosts and
// VMs alike.
func linkPing(dir string) error {
	if _, err := exec.LookPath("ping"); err == nil {
		return nil
	}
	bb, err := LookPath("busybox")
	if err != nil {
		return err
	}
	return os.Symlink(bb, filepath.Join(dir, "ping"))
}

// network builds the namespaces and the two segments: the underlay, where
// every host has its address and the control namespace reaches it, and the
// outside segment. Commands go to `ip -batch`, one process per namespace.
func (l *Lab) network() error {
	if err := Run("ip", "netns", "add", l.CtlNS); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	err := batch(l.CtlNS, []string{
		"link set lo up",
		"link add underlay type bridge", "link set underlay up", "addr add " + l.CtlAddr + "/32 dev underlay",
		"link add outside type bridge", "link set outside up",
	})
	for i, h := range l.Hosts {
		if err == nil {
			err = l.hostNetwork(i, h)
		}
	}
	return err
}

// hostNetwork makes host i's namespace and plugs it into the segments: its
// underlay interface with its address and a route to every other member,
// and its interfaces on the outside segment.
func (l *Lab) hostNetwork(i int, h *Host) error {
	if err := Run("ip", "netns", "add", h.NS); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	u := fmt.Sprintf("u%d", i)
	ctlVeths := []string{u}
	ctl := []string{fmt.Sprintf("link add %s type veth peer name %s netns %s", u, Underlay, h.NS),
		fmt.Sprintf("link set %s master underlay up", u), fmt.Sprintf("route replace %s/32 dev underlay", h.Address),
		// A host made anew has new MACs.
		fmt.Sprintf("neigh flush to %s", h.Address)}
	for j, iface := range h.Ifaces {
		o := fmt.Sprintf("o%d_%d", i, j)
		ctlVeths = append(ctlVeths, o)
		ctl = append(ctl, fmt.Sprintf("link add %s type veth peer name %s netns %s", o, iface, h.NS),
			fmt.Sprintf("link set %s master outside up", o))
	}
	if err := batch(l.CtlNS, ctl); err != nil {
		return err
	}
	if err := txOff(l.CtlNS, ctlVeths...); err != nil {
		return err
	}
	cmds := []string{"link set lo up", fmt.Sprintf("addr add %s/%d dev %s", h.Address, h.PrefixLen, Underlay),
		"link set " + Underlay + " up"}
	// A route to each member outside the host's own subnet (the runbook's
	// addresses may be anywhere); the subnet's route reaches the others.
	// At 64 hosts in one subnet, a route each was 4,000 routes that the
	// systemctl shim moves onto br-lab.
	onLink, _ := netip.ParsePrefix(fmt.Sprintf("%s/%d", h.Address, h.PrefixLen))
	for _, addr := range append([]string{l.CtlAddr}, hostAddresses(l.Hosts, h)...) {
		if a, err := netip.ParseAddr(addr); err != nil || !onLink.Masked().Contains(a) {
			cmds = append(cmds, "route add "+addr+"/32 dev "+Underlay)
		}
	}
	for _, iface := range h.Ifaces {
		cmds = append(cmds, "link set "+iface+" up")
	}
	if err := batch(h.NS, cmds); err != nil {
		return err
	}
	return txOff(h.NS, append([]string{Underlay}, h.Ifaces...)...)
}

// hostAddresses returns the addresses of the hosts other than h.
func hostAddresses(hosts []*Host, h *Host) []string {
	var out []string
	for _, o := range hosts {
		if o != h {
			out = append(out, o.Address)
		}
	}
	return out
}

func (l *Lab) hostNSs() []string {
	var out []string
	for _, h := range l.Hosts {
		out = append(out, h.NS)
	}
	return out
}

// batch runs iproute2 commands in the namespace ns, in one process.
func batch(ns string, cmds []string) error {
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: ip -n %s -batch: %w: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// txOff turns TX checksum offload off on veths: a packet that crosses the
// userspace datapath keeps the partial checksum a veth leaves it, and the
// receiving kernel drops TCP with it. It is `ethtool -K DEV tx off`, done
// here through the ethtool ioctl from a thread in ns: a lab of 64
// hypervisors made ~400 `ip netns exec sh -c ethtool` for its NICs.
func txOff(ns string, ifaces ...string) error {
	if len(ifaces) == 0 {
		return nil
	}
	err := InNamespace(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for _, name := range ifaces {
			if err := ethtoolSet(fd, name, ethtoolSTXCSUM, 0); err != nil {
				return fmt.Errorf("ethtool -K %s tx off: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("lab: %s: %w", ns, err)
	}
	return nil
}

// ethtoolSTXCSUM is ETHTOOL_STXCSUM (linux/ethtool.h): set TX checksumming,
// which takes the offloads that depend on it (TSO) along.
const ethtoolSTXCSUM = 0x17

// ethtoolSet issues one ethtool "set" command of a struct ethtool_value.
func ethtoolSet(fd int, dev string, cmd, data uint32) error {
	if len(dev) >= unix.IFNAMSIZ {
		return fmt.Errorf("interface name %q is too long", dev)
	}
	value := struct{ cmd, data uint32 }{cmd, data}
	// struct ifreq: the name, then a union that here holds a pointer.
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [24 - unsafe.Sizeof(uintptr(0))]byte
	}
	copy(ifr.name[:], dev)
	ifr.data = unsafe.Pointer(&value)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return errno
	}
	return nil
}

// startHost gives a host its directories and host key and starts its sshd
// as a daemon (it outlives `ovnrun lab up`), then waits for it to answer
// on the underlay; with QEMU guests, it then starts the host's libvirtd.
func (l *Lab) startHost(h *Host) (ssh.PublicKey, error) {
	if err := HostDirs(h.Dir); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := linkPing(filepath.Join(h.Dir, "bin")); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	keyFile := filepath.Join(h.Dir, "etc", "ssh_host_ed25519_key")
	pub, err := hostKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	// OVNRUN_LAB_UNDERLAY tells the systemctl shim to set the host up for
	// the userspace datapath when Open vSwitch starts.
	env := append(HostEnv(h.Dir), "OVNRUN_LAB_UNDERLAY="+Underlay)
	conf := SSHD{Listen: "0.0.0.0", HostKey: keyFile, AuthorizedKeys: filepath.Join(l.Dir, "authorized_keys"),
		Env: env, PidFile: filepath.Join(h.Dir, "sshd.pid"), LogFile: filepath.Join(h.Dir, "log", "sshd.log")}
	confFile := filepath.Join(h.Dir, "etc", "sshd_config")
	if err := os.WriteFile(confFile, []byte(conf.Config()), 0o600); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	sshd, err := LookPath("sshd")
	if err != nil {
		return nil, err
	}
	argv, err := l.sshdArgv(h, sshd, confFile, conf.LogFile)
	if err != nil {
		return nil, fmt.Errorf("lab: host %s: %w", h.Name, err)
	}
	if err := Run(argv[0], argv[1:]...); err != nil {
		return nil, fmt.Errorf("lab: host %s: start sshd: %w", h.Name, err)
	}
	if err := WaitSSH(l.CtlNS, h.Address, 10*time.Second, nil); err != nil {
		return nil, fmt.Errorf("lab: host %s: %w\n%s", h.Name, err, TailFile(conf.LogFile, 10))
	}
	if l.VMKind() == VMsQEMU {
		if err := l.startLibvirtd(h); err != nil {
			return nil, err
		}
	}
	return pub, nil
}

// hostKey returns the public key of the host key file, making the key
// when there is none: a host made anew keeps its key, and known_hosts
// stays true.
func hostKey(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewHostKey(path)
	}
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return signer.PublicKey(), nil
}

// writeAccess writes known_hosts and the inventory: what `ovnrun --lab`
// passes as --known-hosts and --inventory.
func (l *Lab) writeAccess(keys []ssh.PublicKey) error {
	var kh strings.Builder
	hosts := map[string]map[string]any{}
	for i, h := range l.Hosts {
		kh.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.Address)}, keys[i]) + "\n")
		hosts[h.Name] = map[string]any{"address": h.Address, "port": 22, "user": "root", "identity_file": l.KeyPath(),
			"ovs_rundir": h.OVSRundir(), "ovn_rundir": h.OVNRundir()}
		if l.VMKind() == VMsQEMU {
			hosts[h.Name]["libvirt_socket"] = l.LibvirtSocket(h)
		}
	}
	inv, err := json.MarshalIndent(map[string]any{"known_hosts": l.KnownHostsPath(), "hosts": hosts}, "", "  ")
	if err == nil {
		err = os.WriteFile(l.KnownHostsPath(), []byte(kh.String()), 0o600)
	}
	if err == nil {
		err = os.WriteFile(l.InventoryPath(), append(inv, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
