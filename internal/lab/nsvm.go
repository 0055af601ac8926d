package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/icmpecho"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// VMDriver applies vm() and attach() in a lab with light VMs: it stands in
// for the libvirt driver (Meta.Driver "libvirt"). A VM is a network
// namespace; a NIC is a veth pair whose host end, named as attach() names
// the NIC's dev, is in the host's namespace, plugged into the bridge with
// external_ids:iface-id, and whose VM end, of the same name, has the NIC's
// MAC and a DHCP client (busybox udhcpc) that keeps asking until OVN
// answers: the seed attaches NICs before it builds the topology. Image,
// CPUs and memory mean nothing to a namespace and are not used.
//
// It works on this machine directly (namespaces, veths, the host's OVS
// database socket), as only a lab can; it also runs commands in VMs for the
// check driver (GuestExec) and reads a VM's address (ReadOutput "ipv4").
type VMDriver struct {
	lab *Lab
	mu  sync.Mutex
	vms map[string][2]string // vm action ID -> host, VM name
	// ovs holds each host's Open vSwitch database client (internal/ovshost,
	// as the host and libvirt drivers use), on its db.sock directly.
	ovs map[string]*ovshost.Client
}

var (
	_ interp.Driver       = (*VMDriver)(nil)
	_ interp.OutputReader = (*VMDriver)(nil)
)

// NewVMDriver returns the light VM driver of lab l.
func NewVMDriver(l *Lab) *VMDriver {
	return &VMDriver{lab: l, vms: map[string][2]string{}, ovs: map[string]*ovshost.Client{}}
}

// Name implements interp.Driver.
func (d *VMDriver) Name() string { return "libvirt" }

// Close implements interp.Driver: it disconnects from the hosts' Open
// vSwitch databases. The VMs outlive the run.
func (d *VMDriver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for name, c := range d.ovs {
		errs = append(errs, c.Close())
		delete(d.ovs, name)
	}
	return errors.Join(errs...)
}

// ovsOf returns the Open vSwitch database client of host h, connecting on
// first use; an *ovshost.NotRunningError is not kept.
func (d *VMDriver) ovsOf(ctx context.Context, h *Host) (*ovshost.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.ovs[h.Name]; c != nil {
		return c, nil
	}
	c, err := ovshost.Open(ctx, remote.NewLocal(h.Name), ovshost.Socket(h.OVSRundir()))
	if err != nil {
		return nil, err
	}
	d.ovs[h.Name] = c
	return c, nil
}

// nicWait bounds waiting for the bridge a NIC plugs into: ovn-controller
// creates br-int a moment after it starts.
const nicWait = 10 * time.Second

// Plan implements interp.Driver.
func (d *VMDriver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	out := make([]interp.Change, len(actions))
	for i, a := range actions {
		c, err := d.plan(ctx, a)
		if err != nil {
			return nil, interp.NewActionError(a, err)
		}
		out[i] = c
	}
	return out, nil
}

func (d *VMDriver) plan(ctx context.Context, a interp.Action) (interp.Change, error) {
	switch a := a.(type) {
	case *virt.Domain:
		d.remember(a)
		ns := d.lab.VMNS(a.M.Host, a.Domain)
		if NamespaceMounted(ns) {
			return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
		}
		note := "lab VM: a network namespace (image, CPUs and memory are not used)"
		if exists(NamespacePath(ns)) {
			note = "lab VM: its namespace file holds no namespace (an interrupted ip netns add): made again"
		}
		return interp.Change{Action: a, Op: interp.OpCreate, Note: note}, nil
	case *virt.Interface:
		diffs, err := d.nicDiffs(ctx, a)
		switch {
		case err != nil:
			return interp.Change{}, err
		case diffs == nil:
			return interp.Change{Action: a, Op: interp.OpCreate}, nil
		case len(diffs) == 0:
			return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
		}
		return interp.Change{Action: a, Op: interp.OpUpdate, Diffs: diffs}, nil
	}
	return interp.Change{}, fmt.Errorf("the lab VM driver cannot apply %T", a)
}

func (d *VMDriver) remember(a *virt.Domain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.vms[a.M.ID] = [2]string{a.M.Host, a.Domain}
}

// Apply implements interp.Driver. Each change is compared with the lab
// again first, so that a second apply changes nothing, and reported as
// what that comparison found to do. A delete deletes whatever is left, so
// it is reported as planned.
func (d *VMDriver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	out := interp.Outcomes{}
	for _, c := range changes {
		op, err := c.Op, error(nil)
		switch a := c.Action.(type) {
		case *virt.Domain:
			d.remember(a)
			if c.Op == interp.OpDelete {
				err = d.deleteVM(a)
			} else {
				op, err = d.createVM(a)
			}
		case *virt.Interface:
			if c.Op == interp.OpDelete {
				err = d.deleteNIC(ctx, a)
			} else {
				op, err = d.applyNIC(ctx, a)
			}
		default:
			err = fmt.Errorf("the lab VM driver cannot apply %T", a)
		}
		if err != nil {
			return nil, interp.NewActionError(c.Action, err)
		}
		out.Did(c.Action.Meta().ID, op)
	}
	return out, nil
}

func (d *VMDriver) host(name string) (*Host, error) {
	h, ok := d.lab.Host(name)
	if !ok {
		return nil, fmt.Errorf("lab %s has no host %s", d.lab.Name, name)
	}
	return h, nil
}

func (d *VMDriver) createVM(a *virt.Domain) (interp.Op, error) {
	if _, err := d.host(a.M.Host); err != nil {
		return "", err
	}
	ns := d.lab.VMNS(a.M.Host, a.Domain)
	if NamespaceMounted(ns) {
		return interp.OpUnchanged, nil
	}
	if err := os.MkdirAll(d.lab.vmDir(a.M.Host, a.Domain), 0o700); err != nil {
		return "", err
	}
	return interp.OpCreate, AddNamespace(ns)
}

// nicState is what the lab has of a NIC.
type nicState struct {
	hostEnd, vmEnd bool
	mac            string // of the VM end
	bridge         string // the bridge holding the host end, "" when none
	ifaceID        string
	dhcp           bool // its DHCP client runs
}

func (d *VMDriver) nicState(ctx context.Context, a *virt.Interface) (nicState, error) {
	var s nicState
	h, err := d.host(a.M.Host)
	if err != nil {
		return s, err
	}
	s.hostEnd = Run("ip", "-n", h.NS, "link", "show", "dev", a.Dev) == nil
	if out, err := Output("ip", "-n", d.lab.VMNS(a.M.Host, a.VM), "-o", "link", "show", "dev", a.Dev); err == nil {
		s.vmEnd = true
		if f := strings.Fields(out); len(f) > 0 {
			for i := range f[:len(f)-1] {
				if f[i] == "link/ether" {
					s.mac = f[i+1]
				}
			}
		}
	}
	if s.hostEnd {
		// Open vSwitch not running (yet) holds no port.
		c, err := d.ovsOf(ctx, h)
		var nr *ovshost.NotRunningError
		switch {
		case errors.As(err, &nr):
		case err != nil:
			return s, err
		default:
			if s.bridge, err = c.PortBridge(ctx, a.Dev); err != nil {
				return s, err
			}
			if s.bridge != "" {
				ids, _, err := c.IfaceExternalIDs(ctx, a.Dev)
				if err != nil {
					return s, err
				}
				s.ifaceID = ids["iface-id"]
			}
		}
	}
	pid, ok := readPID(d.dhcpPidfile(a))
	s.dhcp = ok && !Gone(pid)
	return s, nil
}

// nicDiffs compares a NIC with the lab: nil when it does not exist at all.
func (d *VMDriver) nicDiffs(ctx context.Context, a *virt.Interface) ([]interp.FieldDiff, error) {
	s, err := d.nicState(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.diffs(a), nil
}

// diffs compares s with a: nil when the NIC does not exist at all.
func (s nicState) diffs(a *virt.Interface) []interp.FieldDiff {
	if !s.hostEnd && !s.vmEnd {
		return nil
	}
	diffs := []interp.FieldDiff{}
	if !s.hostEnd || !s.vmEnd {
		diffs = append(diffs, interp.FieldDiff{Key: "dev", Old: "one end only", New: a.Dev})
	}
	if s.mac != a.MAC.String() {
		diffs = append(diffs, interp.FieldDiff{Key: "mac", Old: s.mac, New: a.MAC})
	}
	if s.bridge != a.Bridge {
		diffs = append(diffs, interp.FieldDiff{Key: "bridge", Old: s.bridge, New: a.Bridge})
	}
	if s.ifaceID != a.IfaceID {
		diffs = append(diffs, interp.FieldDiff{Key: "iface_id", Old: s.ifaceID, New: a.IfaceID})
	}
	if !s.dhcp {
		diffs = append(diffs, interp.FieldDiff{Key: "dhcp_client", Old: "not running", New: "running"})
	}
	return diffs
}

// applyNIC makes whatever of the NIC is missing or wrong: the veth pair,
// the MAC, the OVS port and its iface-id, the DHCP client. It returns what
// it did, as the plan would say now.
func (d *VMDriver) applyNIC(ctx context.Context, a *virt.Interface) (interp.Op, error) {
	h, err := d.host(a.M.Host)
	if err != nil {
		return "", err
	}
	vmNS := d.lab.VMNS(a.M.Host, a.VM)
	if !NamespaceMounted(vmNS) {
		return "", fmt.Errorf("VM %s on %s does not exist", a.VM, a.M.Host)
	}
	s, err := d.nicState(ctx, a)
	if err != nil {
		return "", err
	}
	op := interp.OpUpdate
	switch diffs := s.diffs(a); {
	case diffs == nil:
		op = interp.OpCreate
	case len(diffs) == 0:
		op = interp.OpUnchanged // links are still set up below, which changes nothing
	}
	return op, d.fixNIC(ctx, h, a, vmNS, s)
}

// fixNIC makes what s lacks of a.
func (d *VMDriver) fixNIC(ctx context.Context, h *Host, a *virt.Interface, vmNS string, s nicState) error {
	if !s.hostEnd || !s.vmEnd {
		if s.hostEnd {
			Run("ip", "-n", h.NS, "link", "del", a.Dev) // half a pair: start again
		}
		if err := Run("ip", "-n", h.NS, "link", "add", a.Dev, "type", "veth", "peer", "name", a.Dev, "netns", vmNS); err != nil {
			return err
		}
		if err := txOff(h.NS, a.Dev); err != nil {
			return err
		}
		if err := txOff(vmNS, a.Dev); err != nil {
			return err
		}
		s.mac = ""
	}
	if s.mac != a.MAC.String() {
		if err := Run("ip", "-n", vmNS, "link", "set", "dev", a.Dev, "address", a.MAC.String()); err != nil {
			return err
		}
	}
	if err := Run("ip", "-n", vmNS, "link", "set", "dev", a.Dev, "up"); err != nil {
		return err
	}
	if err := Run("ip", "-n", h.NS, "link", "set", "dev", a.Dev, "up"); err != nil {
		return err
	}
	if s.bridge != a.Bridge || s.ifaceID != a.IfaceID {
		if err := d.plugNIC(ctx, h, a); err != nil {
			return err
		}
	}
	if s.dhcp {
		return nil
	}
	return d.startDHCP(a, vmNS)
}

// plugNIC puts the host end into the bridge with the NIC's iface-id and
// attached-mac (what libvirt and the seed's ovs-vsctl set interface do),
// moving it from another bridge, waiting for the bridge to exist.
func (d *VMDriver) plugNIC(ctx context.Context, h *Host, a *virt.Interface) error {
	c, err := d.ovsOf(ctx, h)
	if err != nil {
		return err
	}
	err = c.AddPort(ctx, a.Bridge, a.Dev, map[string]string{"iface-id": a.IfaceID, "attached-mac": a.MAC.String()}, nicWait)
	if errors.Is(err, ovshost.ErrVswitchdLate) {
		return fmt.Errorf("port %s on %s: %w", a.Dev, a.M.Host, err)
	}
	return err
}

func (d *VMDriver) dhcpPidfile(a *virt.Interface) string {
	return filepath.Join(d.lab.vmDir(a.M.Host, a.VM), a.Dev+".udhcpc.pid")
}

// dhcpScript is the DHCP client's script: it sets the address and the
// default route, and never touches /etc/resolv.conf, which is this
// machine's.
const dhcpScript = `#!/bin/sh
case "$1" in
deconfig) ip link set dev "$interface" up; ip -4 addr flush dev "$interface" ;;
bound|renew)
	ip addr replace "$ip/$mask" dev "$interface"
	[ -z "$router" ] || ip route replace default via "${router%% *}" dev "$interface"
	;;
esac
exit 0
`

// startDHCP starts the NIC's DHCP client in the VM, detached: it outlives
// the run, and asks every second until OVN answers.
func (d *VMDriver) startDHCP(a *virt.Interface, vmNS string) error {
	dir := d.lab.vmDir(a.M.Host, a.VM)
	bb, err := LookPath("busybox")
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(dir, a.Dev+".udhcpc.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bb, "udhcpc", "-f", "-i", a.Dev, "-s", d.lab.dhcpScript(),
		"-p", d.dhcpPidfile(a), "-t", "1000000", "-T", "1")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Started from a thread in the VM's namespace, which it inherits.
	if err := InNamespace(vmNS, cmd.Start); err != nil {
		return fmt.Errorf("start the DHCP client: %w", err)
	}
	// Reap it if it dies while this run lasts; it outlives the run.
	go cmd.Wait()
	return nil
}

// GuestExec runs argv in a VM: the check driver's pings. It implements
// check.GuestRunner.
func (d *VMDriver) GuestExec(ctx context.Context, host, vm string, argv []string) (*remote.Result, error) {
	ns, err := d.guestNS(host, vm)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("VM %s on %s: no command to run", vm, host)
	}
	path := d.lab.BinDir() + ":/usr/sbin:/usr/bin:/sbin:/bin"
	bin, err := lookPathIn(path, argv[0])
	if err != nil { // as a shell says it, with its status
		return &remote.Result{Host: host + "/" + vm, Cmd: remote.Argv(argv...).String(), Stderr: err.Error() + "\n", Status: 127}, nil
	}
	// Started from a thread inside the VM's namespace, which the child
	// inherits: one process, where `ip netns exec ... env` made three and
	// a mount namespace, for every ping attempt and lease poll.
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = []string{"PATH=" + path}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err = InNamespace(ns, cmd.Start); err == nil {
		err = cmd.Wait()
	}
	res := &remote.Result{Host: host + "/" + vm, Cmd: remote.Argv(argv...).String(), Stdout: stdout.String(),
		Stderr: stderr.String(), Duration: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s: `%s`: %w", res.Host, res.Cmd, ctx.Err())
	case errors.As(err, &exit):
		res.Status = exit.ExitCode()
	case err != nil:
		return nil, err
	}
	return res, nil
}

// guestNS is the namespace of a VM that exists.
func (d *VMDriver) guestNS(host, vm string) (string, error) {
	ns := d.lab.VMNS(host, vm)
	if !NamespaceMounted(ns) {
		return "", fmt.Errorf("VM %s on %s does not exist", vm, host)
	}
	return ns, nil
}

// GuestEcho opens a socket for echo requests to dst inside a VM: the check
// driver's pings from namespace VMs (check.GuestEchoer). The socket stays
// in the VM's namespace, where it was made, whichever thread uses it.
func (d *VMDriver) GuestEcho(host, vm string, dst netip.Addr) (*icmpecho.Conn, error) {
	ns, err := d.guestNS(host, vm)
	if err != nil {
		return nil, err
	}
	var c *icmpecho.Conn
	err = InNamespace(ns, func() (err error) {
		c, err = icmpecho.Open(dst)
		return err
	})
	return c, err
}

// lookPathIn finds name in the directories of path (a PATH value), as the
// shell of the VM would.
func lookPathIn(path, name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found", name)
}

// vmWait bounds waiting for a VM's DHCP lease.
const vmWait = 30 * time.Second

// ReadOutput implements interp.OutputReader: a VM's "ipv4", the first
// address its DHCP clients got, waiting for one.
func (d *VMDriver) ReadOutput(ctx context.Context, id, attr string) (string, error) {
	d.mu.Lock()
	vm, ok := d.vms[id]
	d.mu.Unlock()
	if !ok || attr != "ipv4" {
		return "", fmt.Errorf("the lab VM driver has no output %s of %s", attr, id)
	}
	ns := d.lab.VMNS(vm[0], vm[1])
	deadline := time.Now().Add(vmWait)
	for {
		addrs, err := namespaceAddrs(ns)
		if err != nil {
			return "", err
		}
		for _, a := range addrs {
			if a.Is4() {
				return a.String(), nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("VM %s on %s has no IPv4 address after %s: did OVN answer its DHCP requests?", vm[1], vm[0], vmWait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
