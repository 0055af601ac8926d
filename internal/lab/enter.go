package lab

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Working inside a lab that is up: `ovnrun lab exec|shell|capture` name a
// host ("h1") or a VM on it ("h1/v0"), a namespace VM or a QEMU guest;
// Place is where that is.

// Place is a host or a namespace VM of a lab, as a command entering it
// needs it.
type Place struct {
	Name string // HOST or HOST/VM
	NS   string // its network namespace
	// Env is what a command started there gets: a host's the environment
	// its sshd gives SSH sessions (its OVS and OVN directories, the
	// systemctl shim), a VM's only a PATH with the lab's commands.
	Env []string
	// Guest is the domain of a QEMU guest, "" for a host or a namespace
	// VM: NS and Env are then its host's, and LibvirtSocket the socket
	// of its host's libvirtd (guest.go).
	Guest, LibvirtSocket string
}

// Place returns the host or VM that name (HOST or HOST/VM) designates, or
// an error listing what can be named.
func (l *Lab) Place(name string) (Place, error) {
	hostName, vm, isVM := strings.Cut(name, "/")
	h, ok := l.Host(hostName)
	if !ok {
		return Place{}, fmt.Errorf("lab %s has no host %q: it has %s", l.Name, hostName, strings.Join(l.Names(), ", "))
	}
	if !isVM {
		return Place{Name: name, NS: h.NS, Env: HostEnv(h.Dir)}, nil
	}
	if l.VMKind() == VMsQEMU {
		if !slices.Contains(l.guestNames(h), vm) {
			return Place{}, fmt.Errorf("lab %s has no VM %q on %s: it has %s", l.Name, vm, hostName, strings.Join(l.Names(), ", "))
		}
		return Place{Name: name, NS: h.NS, Env: HostEnv(h.Dir), Guest: vm, LibvirtSocket: l.LibvirtSocket(h)}, nil
	}
	ns := l.VMNS(hostName, vm)
	if !NamespaceMounted(ns) {
		return Place{}, fmt.Errorf("lab %s has no VM %q on %s: it has %s", l.Name, vm, hostName, strings.Join(l.Names(), ", "))
	}
	return Place{Name: name, NS: ns, Env: []string{"PATH=" + l.BinDir() + ":/usr/sbin:/usr/bin:/sbin:/bin"}}, nil
}

// Names lists what Place accepts: every host, then every VM as HOST/VM.
func (l *Lab) Names() []string {
	var out []string
	for _, h := range l.Hosts {
		out = append(out, h.Name)
	}
	for _, h := range l.Hosts {
		if l.VMKind() == VMsQEMU {
			for _, vm := range l.guestNames(h) {
				out = append(out, h.Name+"/"+vm)
			}
			continue
		}
		for _, ns := range Namespaces(h.NS + "+") {
			out = append(out, h.Name+"/"+strings.TrimPrefix(ns, h.NS+"+"))
		}
	}
	return out
}

// Command is the argv that runs argv at p, through `ip netns exec` (which
// passes the command's exit status through); for a QEMU guest, on its host.
func (p Place) Command(argv []string) []string {
	out := append([]string{"ip", "netns", "exec", p.NS, "env"}, p.Env...)
	return append(out, argv...)
}

// Devices lists the network devices in the namespace ns, sorted, without
// loopback: what `lab capture` can capture on.
func Devices(ns string) []string {
	out, err := Output("ip", "-n", ns, "-o", "link", "show")
	if err != nil {
		return nil
	}
	var devs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		dev, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if dev != "lo" {
			devs = append(devs, dev)
		}
	}
	sort.Strings(devs)
	return devs
}
