package lab

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
)

// namespaceAddrs returns the global addresses of the network namespace ns
// that are usable (IPv6 ones past duplicate address detection), read over
// netlink from this process. Checks poll a VM's addresses ten times a
// second while they wait for its lease, with every host's checks at once:
// as `ip netns exec ... ip addr`, that was three processes and a mount
// namespace a poll.
func namespaceAddrs(ns string) ([]netip.Addr, error) {
	var msgs []syscall.NetlinkMessage
	err := InNamespace(ns, func() error {
		rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_UNSPEC)
		if err != nil {
			return err
		}
		msgs, err = syscall.ParseNetlinkMessage(rib)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab: the addresses of %s: %w", ns, err)
	}
	var out []netip.Addr
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		// struct ifaddrmsg: family, prefix length, flags, scope, index.
		flags, scope := m.Data[2], m.Data[3]
		if scope != syscall.RT_SCOPE_UNIVERSE || flags&ifaFlagTentative != 0 {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("lab: the addresses of %s: %w", ns, err)
		}
		for _, a := range attrs {
			// IFA_ADDRESS is the address itself on a broadcast link (the
			// peer's on a point-to-point one, which VMs do not have).
			if a.Attr.Type != syscall.IFA_ADDRESS {
				continue
			}
			if addr, ok := netip.AddrFromSlice(a.Value); ok {
				out = append(out, addr.Unmap())
			}
		}
	}
	return out, nil
}

// ifaFlagTentative is IFA_F_TENTATIVE: an IPv6 address still in duplicate
// address detection, which the VM cannot send from yet.
const ifaFlagTentative = 0x40

// GuestAddresses implements check.GuestAddresser: the VM's usable global
// addresses, without starting a process.
func (d *VMDriver) GuestAddresses(ctx context.Context, host, vm string) ([]netip.Addr, error) {
	ns, err := d.guestNS(host, vm)
	if err != nil {
		return nil, err
	}
	return namespaceAddrs(ns)
}
