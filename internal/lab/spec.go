package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/ovnrun/ovnrun/interp"
)

// InterfaceUser is an action that names physical interfaces of its host (a
// bridge's ports, a route's or an address's device). The domains implement
// it, so the lab learns a runbook's interfaces without knowing their actions.
type InterfaceUser interface {
	HostInterfaces() []string
}

// VMNIC is an action whose device on its host is a VM's NIC: the VM driver
// makes it, so the lab must not, even when another action names it.
type VMNIC interface {
	NICDev() string
}

// DeviceMaker is an action that makes devices on its host (an OVS bridge
// and its internal port): another action naming one, such as an address on
// the bridge, does not make it a physical interface.
type DeviceMaker interface {
	HostDevices() []string
}

// Spec is what a lab is built from: the hosts a runbook declares, with
// their addresses and the interfaces it names on them.
type Spec struct {
	Name    string
	Runbook string
	Hosts   []HostSpec
	// VMs is what the lab's VMs are (VMsNS, VMsQEMU); "" takes VMsNS for
	// a new lab and accepts a lab that is up with either.
	VMs string
}

// HostSpec is one host to emulate.
type HostSpec struct {
	Name string
	// Address is the address the runbook declares: an IPv4 address, which
	// the host gets on the underlay, or a DNS name, for which the lab
	// picks one (and the inventory says which).
	Address string
	// Ifaces are the interfaces the runbook names as physical ones (a
	// bridge's ports, a route's or an address's dev): they are plugged
	// into the outside segment.
	Ifaces []string
}

// SpecFor returns the spec of the lab of plan (after -D variables, before
// any inventory rewrote its hosts).
func SpecFor(plan *interp.Plan) (Spec, error) {
	s := Spec{Name: NameFor(plan.Runbook), Runbook: plan.Runbook}
	ifaces := map[string]map[string]bool{} // host -> interface names
	nics := map[string]map[string]bool{}   // host -> VM NIC devs, made by the VM driver
	made := map[string]map[string]bool{}   // host -> devices its actions make (OVS bridges)
	add := func(m map[string]map[string]bool, h, name string) {
		if name == "" || name == Underlay {
			return
		}
		if m[h] == nil {
			m[h] = map[string]bool{}
		}
		m[h][name] = true
	}
	for _, st := range plan.Steps {
		for _, a := range st.Actions {
			h := a.Meta().Host
			if u, ok := a.(InterfaceUser); ok {
				for _, name := range u.HostInterfaces() {
					add(ifaces, h, name)
				}
			}
			if n, ok := a.(VMNIC); ok {
				add(nics, h, n.NICDev())
			}
			if m, ok := a.(DeviceMaker); ok {
				for _, name := range m.HostDevices() {
					add(made, h, name)
				}
			}
		}
	}
	for _, h := range plan.HostList() {
		if h.Local {
			return Spec{}, fmt.Errorf("lab: host %q is local=True: the lab emulates hosts reached over SSH only", h.Name)
		}
		if a, err := netip.ParseAddr(h.Address); err == nil && !a.Is4() {
			return Spec{}, fmt.Errorf("lab: host %q has the IPv6 address %s: the lab's underlay is IPv4 only (give it another with -D or an inventory)", h.Name, h.Address)
		}
		hs := HostSpec{Name: h.Name, Address: h.Address}
		for name := range ifaces[h.Name] {
			if !nics[h.Name][name] && !made[h.Name][name] {
				hs.Ifaces = append(hs.Ifaces, name)
			}
		}
		sort.Strings(hs.Ifaces)
		s.Hosts = append(s.Hosts, hs)
	}
	if len(s.Hosts) == 0 {
		return Spec{}, fmt.Errorf("lab: %s declares no host", plan.Runbook)
	}
	return s, nil
}

// matches reports how the lab differs from spec, "" when it does not.
func (l *Lab) matches(s Spec) string {
	if s.VMs != "" && s.VMs != l.VMKind() {
		return fmt.Sprintf("its VMs are %s, not %s (--lab-vms)", l.VMKind(), s.VMs)
	}
	if len(l.Hosts) != len(s.Hosts) {
		return fmt.Sprintf("it has %d hosts, the runbook declares %d", len(l.Hosts), len(s.Hosts))
	}
	for i, hs := range s.Hosts {
		h := l.Hosts[i]
		switch {
		case h.Name != hs.Name:
			return fmt.Sprintf("it has host %s where the runbook declares %s", h.Name, hs.Name)
		case h.Declared != hs.Address:
			return fmt.Sprintf("host %s has address %s, the runbook says %s", h.Name, h.Declared, hs.Address)
		case !slices.Equal(h.Ifaces, hs.Ifaces):
			return fmt.Sprintf("host %s has interfaces %v, the runbook names %v", h.Name, h.Ifaces, hs.Ifaces)
		}
	}
	return ""
}

// addresses gives every host its lab address and picks the control
// namespace's: a host declared by IP address keeps it, the others get one
// from 198.18.0.0/24 (the range RFC 2544 sets aside for test labs) that no
// host declares. Every address is a /32 with a route to each other one,
// except that the hosts declared by IP address share the smallest subnet
// that holds them all: Open vSwitch's userspace tunnels only find a route
// to a peer that is on the subnet of a local address.
func addresses(s Spec) (ctl string, hosts []netip.Prefix) {
	used := map[netip.Addr]bool{}
	for _, h := range s.Hosts {
		if a, err := netip.ParseAddr(h.Address); err == nil {
			used[a] = true
		}
	}
	bits := commonBits(used)
	next := netip.MustParseAddr("198.18.0.1")
	pick := func() string {
		for used[next] {
			next = next.Next()
		}
		used[next] = true
		return next.String()
	}
	ctl = pick()
	for _, h := range s.Hosts {
		if a, err := netip.ParseAddr(h.Address); err == nil {
			hosts = append(hosts, netip.PrefixFrom(a, bits))
		} else {
			hosts = append(hosts, netip.PrefixFrom(netip.MustParseAddr(pick()), 32))
		}
	}
	return ctl, hosts
}

// commonBits is the length of the longest prefix that all of addrs share
// (32 for one address).
func commonBits(addrs map[netip.Addr]bool) int {
	var first netip.Addr
	bits := 32
	for a := range addrs {
		if !first.IsValid() {
			first = a
			continue
		}
		for bits > 0 {
			if p, _ := first.Prefix(bits); p.Contains(a) {
				break
			}
			bits--
		}
	}
	// A host on the subnet's network or broadcast address cannot be
	// reached (177.1.1.3 in 177.1.1.0/30): widen the subnet until none is.
	// /31 and /32 have neither (RFC 3021).
	for bits > 0 && bits <= 30 && onEdge(addrs, bits) {
		bits--
	}
	return bits
}

// onEdge reports whether one of addrs is the network or the broadcast
// address of its /bits subnet.
func onEdge(addrs map[netip.Addr]bool, bits int) bool {
	for a := range addrs {
		p, _ := a.Prefix(bits)
		last := p.Addr().As4()
		for i := bits; i < 32; i++ {
			last[i/8] |= 1 << (7 - i%8)
		}
		if a == p.Addr() || a == netip.AddrFrom4(last) {
			return true
		}
	}
	return false
}
