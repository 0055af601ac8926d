// Package virt is the VM domain of ovnrun: the Starlark face of libvirt
// guests on the lab's hosts. vm() declares a domain (what the seed runbook
// does with virt-install) and attach() plugs a NIC into it on the host's OVS
// integration bridge, bound to an OVN logical switch port (what the seed
// does with virsh attach-device and ovs-vsctl set interface ...
// external-ids:iface-id). Builtins only validate arguments and append typed
// actions; the libvirt driver (libvirtdriver.go and the files it names)
// applies them.
//
// The builtins import only interp and go.starlark.net; the driver also
// go-libvirt, libvirtxml, libovsdb, internal/remote and internal/ovsdbmodel.
// The actions describe their part of the graph (topo.go, importing
// internal/topo) and name the NIC devices the VM driver makes (nicdev.go,
// lab.VMNIC).
package virt

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Register adds the VM domain's builtins to r.
func Register(r *interp.Registry) error {
	return r.RegisterAll(
		interp.Builtin{Name: "vm",
			Signature: "vm(name, host=, image=, sha256=, vcpus=1, memory_mib=1024, disk_gib=, domain_type=, os_variant=, kernel=, initrd=, cmdline=, cloud_init=)",
			Domain:    "virt", Doc: vmDoc, Fn: vmBuiltin},
		interp.Builtin{Name: "attach",
			Signature: `attach(vm, port, dev=, bridge="br-int", mac=)`,
			Domain:    "virt", Doc: attachDoc, Fn: attachBuiltin},
	)
}

// state is what the VM domain remembers during one evaluation, to refuse
// NICs that would collide on a host or in the lab.
type state struct {
	devs     map[string]interp.Pos // "host/dev"
	macs     map[string]interp.Pos // MAC text
	ifaceIDs map[string]interp.Pos
}

func stateOf(c *interp.Call) *state {
	return c.Ev.Domain("virt", func() any {
		return &state{devs: map[string]interp.Pos{}, macs: map[string]interp.Pos{}, ifaceIDs: map[string]interp.Pos{}}
	}).(*state)
}

func vmBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name       domainName
		hv         starlark.Value
		img        image
		vcpus      = 1
		memory     = 1024
		disk       int
		domainType string
		osVariant  string
		kernel     image
		initrd     image
		cmdline    string
		sha        digest
		ci         cloudInitArg
	)
	if err := c.Unpack(1, "name", &name, "host", &hv, "image?", &img, "vcpus?", &vcpus,
		"memory_mib?", &memory, "disk_gib?", &disk, "domain_type?", &domainType, "os_variant?", &osVariant,
		"kernel?", &kernel, "initrd?", &initrd, "cmdline?", &cmdline, "sha256?", &sha, "cloud_init?", &ci); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	switch {
	case vcpus < 1 || vcpus > 256:
		return nil, c.Errorf("vcpus %d is out of range 1..256", vcpus)
	case memory < 64:
		return nil, c.Errorf("memory_mib %d is below the minimum of 64", memory)
	case disk < 0 || disk > 65536:
		return nil, c.Errorf("disk_gib %d is out of range 1..65536", disk)
	case img == "" && disk == 0 && kernel == "":
		return nil, c.Errorf("VM %q needs image= (a disk image to copy), disk_gib= (a blank disk) or kernel= (direct kernel boot)", name)
	case kernel == "" && (initrd != "" || cmdline != ""):
		return nil, c.Errorf("initrd= and cmdline= go with kernel= (direct kernel boot)")
	case len(cmdline) > 4096 || strings.ContainsAny(cmdline, "\x00\n"):
		return nil, c.Errorf("cmdline: want one line of at most 4096 bytes")
	case sha != "" && img == "":
		return nil, c.Errorf("sha256= is the digest of image=, which is not given")
	case domainType != "" && domainType != "kvm" && domainType != "qemu":
		return nil, c.Errorf("domain_type %q: want kvm or qemu (or leave unset to pick kvm when available)", domainType)
	case !validOSVariant(osVariant):
		return nil, c.Errorf("os_variant %q: want an osinfo short ID such as rhel8.4 or fedora39", osVariant)
	}
	a := &Domain{Domain: string(name), Image: string(img), VCPUs: vcpus, MemoryMiB: memory,
		DiskGiB: disk, DomainType: domainType, OSVariant: osVariant,
		Kernel: string(kernel), Initrd: string(initrd), Cmdline: cmdline, SHA256: string(sha), CloudInit: ci.ci}
	useGuestKit(c, a)
	a.M = interp.Meta{Kind: "vm", Name: h.Name + "/" + string(name), Driver: "libvirt", Host: h.Name}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return &VM{Name: string(name), Host: h, ID: a.M.ID}, nil
}

func validOSVariant(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// reservedDevPrefix returns the prefix of dev that libvirt keeps for the
// tap names it generates itself (it replaces such a target dev on attach),
// or "".
func reservedDevPrefix(dev string) string {
	for _, p := range []string{"vnet", "vif", "macvtap", "macvlan"} {
		if strings.HasPrefix(dev, p) {
			return p
		}
	}
	return ""
}

func attachBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		vmv, portv starlark.Value
		dev        interp.IfName
		bridge     = interp.IfName("br-int")
		mac        interp.MAC
	)
	if err := c.Unpack(2, "vm", &vmv, "port", &portv, "dev?", &dev, "bridge?", &bridge, "mac?", &mac); err != nil {
		return nil, err
	}
	vm, ok := vmv.(*VM)
	if !ok {
		return nil, c.Errorf("for parameter vm: got %s, want vm", vmv.Type())
	}
	nic := &Interface{VM: vm.Name, Bridge: string(bridge)}
	deps := []string{vm.ID}
	switch p := portv.(type) {
	case interp.LogicalPort:
		if mac.IsSet() {
			return nil, c.Errorf("mac= is redundant: the NIC takes the MAC of logical port %q (%s)", p.PortName(), p.PortMAC())
		}
		if !p.PortMAC().IsSet() {
			return nil, c.Errorf("logical port %q has no static MAC address to give the NIC; declare it with one", p.PortName())
		}
		nic.IfaceID, nic.MAC = p.PortName(), p.PortMAC()
		deps = append(deps, p.PortID())
	case starlark.String:
		if err := interp.CheckName(string(p)); err != nil {
			return nil, c.Errorf("port: %v", err)
		}
		nic.IfaceID, nic.MAC = string(p), mac
	default:
		return nil, c.Errorf("for parameter port: got %s, want logical switch port or iface-id string", portv.Type())
	}
	nic.Dev = string(dev)
	if dev == "" {
		if err := interp.CheckIfName(nic.IfaceID); err != nil {
			return nil, c.Errorf("the port name cannot be the NIC's dev (%v); give dev=", err)
		}
		nic.Dev = nic.IfaceID
	}
	if p := reservedDevPrefix(nic.Dev); p != "" {
		return nil, c.Errorf("dev %q: libvirt renames taps whose name starts with %q, so ovnrun could not find the NIC again; choose another dev=", nic.Dev, p)
	}
	pos := c.Pos()
	if err := claimNIC(c, pos, vm.Host, nic); err != nil {
		return nil, err
	}
	nic.M = interp.Meta{Kind: "vm_nic", Name: vm.Host.Name + "/" + nic.Dev, Driver: "libvirt",
		Host: vm.Host.Name, DependsOn: deps}
	if err := c.Add(nic); err != nil {
		return nil, err
	}
	if _, isName := portv.(starlark.String); isName {
		// The logical port may be declared in a later step (the seed attaches
		// NICs during host setup and builds the topology after), so a name
		// is resolved once the whole runbook has been read.
		c.AtEnd(func() error { return resolveNIC(c, pos, nic) })
	} else if err := claimMAC(c, pos, nic); err != nil {
		return nil, err
	}
	vm.nics = append(vm.nics, portv)
	return starlark.None, nil
}

// resolveNIC completes a NIC attached by port name: it takes the MAC of the
// logical switch port of that name if the runbook declares one (and then
// refuses a different mac=), and otherwise needs mac=.
func resolveNIC(c *interp.Call, pos interp.Pos, nic *Interface) error {
	if p, ok := c.Ev.Port(nic.IfaceID); ok {
		if nic.MAC.IsSet() && nic.MAC != p.PortMAC() {
			return fmt.Errorf("mac %s differs from %s of logical port %q; leave mac= out and the NIC takes the port's", nic.MAC, p.PortMAC(), nic.IfaceID)
		}
		if !p.PortMAC().IsSet() {
			return fmt.Errorf("logical port %q has no static MAC address to give the NIC; declare it with one", nic.IfaceID)
		}
		nic.MAC = p.PortMAC()
		nic.M.DependsOn = append(nic.M.DependsOn, p.PortID())
	} else if !nic.MAC.IsSet() {
		return fmt.Errorf("no logical switch port %q is declared anywhere in the runbook; give mac= for a NIC that OVN does not know", nic.IfaceID)
	}
	return claimMAC(c, pos, nic)
}

// claimNIC refuses a NIC whose dev is taken on its host, or whose iface-id
// is taken anywhere in the lab, and records it otherwise.
func claimNIC(c *interp.Call, pos interp.Pos, h *interp.Host, nic *Interface) error {
	st := stateOf(c)
	devKey := h.Name + "/" + nic.Dev
	if first, ok := st.devs[devKey]; ok {
		return c.Errorf("dev %q on host %q is already attached at %s", nic.Dev, h.Name, first)
	}
	if first, ok := st.ifaceIDs[nic.IfaceID]; ok {
		return c.Errorf("iface-id %q is already bound to a NIC at %s; ovn-controller would bind the port to both", nic.IfaceID, first)
	}
	st.devs[devKey], st.ifaceIDs[nic.IfaceID] = pos, pos
	return nil
}

// claimMAC refuses a multicast MAC or one already given to another NIC.
func claimMAC(c *interp.Call, pos interp.Pos, nic *Interface) error {
	if err := checkMulticast(nic.MAC); err != nil {
		return err
	}
	st := stateOf(c)
	if first, ok := st.macs[nic.MAC.String()]; ok {
		return fmt.Errorf("MAC %s is already given to a NIC at %s", nic.MAC, first)
	}
	st.macs[nic.MAC.String()] = pos
	return nil
}

// checkMulticast refuses a group address: a NIC needs a unicast MAC.
func checkMulticast(m interp.MAC) error {
	first, err := strconv.ParseUint(m.String()[:2], 16, 8)
	if err == nil && first&1 == 1 {
		return fmt.Errorf("MAC %s is a multicast address; a NIC needs a unicast one", m)
	}
	return nil
}
