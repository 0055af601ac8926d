package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ovnrun/ovnrun/internal/libvirtd"
)

// QEMU guests in a lab (--lab-vms=qemu). Every host then runs a libvirtd
// (and its virtlogd) of its own, started with internal/libvirtd: the host is
// a network namespace and a mount namespace, shared by its sshd and its
// libvirt daemons, in which /run, /etc/libvirt, /var/lib/libvirt,
// /var/log/libvirt and /var/cache/libvirt are the host's own, so that what
// an SSH session sees (images, guest channels, virsh) is what its libvirtd
// sees, as on a real hypervisor. libvirtd has the host's OVS_RUNDIR, so the
// taps it plugs go into the host's Open vSwitch; QEMU and every packet of a
// guest stay in the host's namespace. The inventory gives each host's
// libvirt socket (libvirt_socket), and the libvirt driver applies vm() and
// attach() as on real hosts.
//
// The lab boots every VM from the project's guest kit, sized GuestVCPUs and
// GuestMemoryMiB: the lab cannot fetch a runbook's image (it has no
// network), and four full guests would not fit a small machine. The kit is
// an input to evaluation (virt.SetGuestKit, from cmd/ovnrun), so the plan
// shows it; the runbook's vm() is untouched for real hosts.

// What a lab's VMs are.
const (
	VMsNS   = "ns"   // network namespaces (nsvm.go)
	VMsQEMU = "qemu" // QEMU guests through a libvirtd per host
)

// The size of every QEMU guest of a lab: four guests boot at once on a
// 2-core machine under software emulation.
const (
	GuestVCPUs     = 1
	GuestMemoryMiB = 128
)

// VMKind is what the lab's VMs are: VMsNS or VMsQEMU.
func (l *Lab) VMKind() string {
	if l.VMs == "" {
		return VMsNS
	}
	return l.VMs
}

// libvirt returns the libvirt daemons of host h. Their cache starts from
// libvirtd.SharedCacheDir, so that QEMU is probed once per machine.
func (l *Lab) libvirt(h *Host) libvirtd.Daemons {
	return libvirtd.Daemons{Dir: filepath.Join(h.Dir, "libvirt"), SharedCache: libvirtd.SharedCacheDir}
}

// saveQEMUProbes keeps what the libvirt daemons of the lab in dir learnt
// of QEMU for the next labs (libvirtd.SaveCache), once they are stopped.
func saveQEMUProbes(dir string) {
	hosts, _ := filepath.Glob(filepath.Join(dir, "hosts", "*", "libvirt"))
	for _, d := range hosts {
		libvirtd.Daemons{Dir: d, SharedCache: libvirtd.SharedCacheDir}.SaveCache()
	}
}

// LibvirtSocket is the libvirt socket of host h (in a lab with QEMU
// guests): the inventory's libvirt_socket.
func (l *Lab) LibvirtSocket(h *Host) string { return l.libvirt(h).Socket() }

// qemuRequirements says what this machine lacks for QEMU guests.
func qemuRequirements() error {
	if missing := libvirtd.Missing(); len(missing) > 0 {
		return fmt.Errorf("lab: --lab-vms=qemu needs %s (run scripts/install-virt-deps.sh as root)", strings.Join(missing, ", "))
	}
	if _, err := libvirtd.FindKit(); err != nil {
		return fmt.Errorf("lab: --lab-vms=qemu boots the guest kit: %w", err)
	}
	return nil
}

// sshdArgv returns the command that starts host h's sshd: in the host's
// network namespace and, with QEMU guests, in a new mount namespace made
// for its libvirt daemons, which startLibvirtd then joins. The lab's
// directory stays visible there at its path.
func (l *Lab) sshdArgv(h *Host, sshd, conf, logFile string) ([]string, error) {
	argv := []string{"ip", "netns", "exec", h.NS, sshd, "-f", conf, "-E", logFile}
	if l.VMKind() != VMsQEMU {
		return argv, nil
	}
	d := l.libvirt(h)
	if err := d.Prepare(); err != nil {
		return nil, err
	}
	script := d.MountScript(l.Dir) + "mkdir -p /run/sshd\nexec \"$@\"\n"
	return append([]string{"ip", "netns", "exec", h.NS, "unshare", "--mount", "--propagation", "private",
		"/bin/sh", "-c", script, "sh"}, argv[4:]...), nil
}

// startLibvirtd starts host h's libvirt daemons in the namespaces of its
// sshd, with the host's environment (OVS_RUNDIR...).
func (l *Lab) startLibvirtd(h *Host) error {
	pid, ok := readPID(filepath.Join(h.Dir, "sshd.pid"))
	if !ok {
		return fmt.Errorf("lab: host %s: sshd wrote no pidfile", h.Name)
	}
	if err := l.libvirt(h).Start(pid, HostEnv(h.Dir)); err != nil {
		return fmt.Errorf("lab: host %s: %w", h.Name, err)
	}
	return nil
}

// guests describes host h's QEMU guests for the status: their names, from
// the console logs libvirt keeps, whether each runs, and the addresses the
// guest kit reported on its console.
func (l *Lab) guests(h *Host) []string {
	var out []string
	for _, name := range l.guestNames(h) {
		state := "not running"
		if l.guestRuns(h, name) {
			state = "running"
		}
		out = append(out, fmt.Sprintf("vm %s: QEMU guest, %s, %s", name, state, consoleAddresses(l.consoleLog(h, name))))
	}
	return out
}

// guestNames lists host h's QEMU guests, sorted: those libvirt keeps a
// console log of.
func (l *Lab) guestNames(h *Host) []string {
	logs, _ := filepath.Glob(l.consoleLog(h, "*"))
	sort.Strings(logs)
	var out []string
	for _, f := range logs {
		out = append(out, strings.TrimSuffix(filepath.Base(f), "-console.log"))
	}
	return out
}

func (l *Lab) consoleLog(h *Host, vm string) string {
	return filepath.Join(l.libvirt(h).LogDir(), "qemu", vm+"-console.log")
}

// guestRuns reports whether guest vm of host h runs, by libvirt's pidfile
// of it in the host's own /run.
func (l *Lab) guestRuns(h *Host, vm string) bool {
	sshd, _ := readPID(filepath.Join(h.Dir, "sshd.pid"))
	pid, ok := readPID(fmt.Sprintf("/proc/%d/root/run/libvirt/qemu/%s.pid", sshd, vm))
	return ok && !Gone(pid)
}

// consoleAddresses reads the last address the guest kit reported for each
// NIC ("ovnrun-guest: eth0 172.16.1.2/24").
func consoleAddresses(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	addrs := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) == 3 && f[0] == "ovnrun-guest:" && strings.Contains(f[2], "/") {
			addrs[f[1]] = f[2]
		}
	}
	if len(addrs) == 0 {
		return "no address yet"
	}
	var out []string
	for _, nic := range sortedKeys(addrs) {
		out = append(out, nic+" "+addrs[nic])
	}
	return strings.Join(out, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
