package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// StatusText describes a lab that is up: its hosts, what runs on each, and
// its VMs with their addresses.
func StatusText(l *Lab) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Lab %s (%s), up since %s\n", l.Name, l.Runbook, l.Created.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(&b, "  control namespace %s (%s)\n", l.CtlNS, l.CtlAddr)
	if l.VMKind() == VMsQEMU {
		fmt.Fprintf(&b, "  VMs are QEMU guests of the guest kit, through a libvirtd on each host\n")
	}
	fmt.Fprintf(&b, "  inventory %s\n", l.InventoryPath())
	for _, h := range l.Hosts {
		addr := h.Address
		if h.Declared != h.Address {
			addr += " (for " + h.Declared + ")"
		}
		fmt.Fprintf(&b, "  host %s: %s, namespace %s\n", h.Name, addr, h.NS)
		fmt.Fprintf(&b, "    %s\n", strings.Join(h.daemons(), ", "))
		fmt.Fprintf(&b, "    devices: %s\n", devicesText(h.NS))
		for _, g := range l.guests(h) {
			fmt.Fprintf(&b, "    %s\n", g)
		}
		if len(h.Ifaces) > 0 {
			fmt.Fprintf(&b, "    on the outside segment: %s\n", strings.Join(h.Ifaces, ", "))
		}
		for _, ns := range Namespaces(h.NS + "+") {
			vm := strings.TrimPrefix(ns, h.NS+"+")
			fmt.Fprintf(&b, "    vm %s: namespace %s, %s\n", vm, ns, vmAddresses(ns))
			fmt.Fprintf(&b, "      devices: %s\n", devicesText(ns))
		}
	}
	fmt.Fprintf(&b, "  to name in ovnrun lab exec, shell and capture: %s\n", strings.Join(l.Names(), ", "))
	return b.String()
}

func devicesText(ns string) string {
	if devs := Devices(ns); len(devs) > 0 {
		return strings.Join(devs, ", ")
	}
	return "none"
}

// daemons says which of the host's daemons run, by their pidfiles.
func (h *Host) daemons() []string {
	var out []string
	for _, d := range []struct{ name, pidfile string }{
		{"sshd", filepath.Join(h.Dir, "sshd.pid")},
		{"ovsdb-server", filepath.Join(h.OVSRundir(), "ovsdb-server.pid")},
		{"ovs-vswitchd", filepath.Join(h.OVSRundir(), "ovs-vswitchd.pid")},
		{"ovn NB", filepath.Join(h.OVNRundir(), "ovnnb_db.pid")},
		{"ovn SB", filepath.Join(h.OVNRundir(), "ovnsb_db.pid")},
		{"ovn-northd", filepath.Join(h.OVNRundir(), "ovn-northd.pid")},
		{"ovn-controller", filepath.Join(h.OVNRundir(), "ovn-controller.pid")},
		{"libvirtd", filepath.Join(h.Dir, "libvirt", "libvirtd.pid")},
	} {
		pid, ok := readPID(d.pidfile)
		switch {
		case ok && !Gone(pid):
			out = append(out, d.name+" running")
		case ok || d.name == "sshd":
			out = append(out, d.name+" NOT running")
		}
	}
	return out
}

func readPID(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid, err == nil && pid > 0
}

// vmAddresses lists a VM namespace's IPv4 addresses by interface.
func vmAddresses(ns string) string {
	out, err := Output("ip", "-n", ns, "-o", "-4", "addr", "show", "scope", "global")
	if err != nil {
		return "?"
	}
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			addrs = append(addrs, f[1]+" "+f[3])
		}
	}
	if len(addrs) == 0 {
		return "no address yet"
	}
	return strings.Join(addrs, ", ")
}
