package virt

import "github.com/ovnrun/ovnrun/interp"

// Domain is a libvirt domain (a VM) on a host, as the seed's virt-install
// creates it.
type Domain struct {
	interp.ActionMeta
	Domain     string // the libvirt domain name
	Image      string // http(s) URL, file:// URL or absolute path; "" for a blank disk or none
	VCPUs      int
	MemoryMiB  int
	DiskGiB    int    // 0: the image's own size
	DomainType string // "" (kvm when available, else qemu), kvm or qemu
	OSVariant  string // osinfo short ID, such as rhel8.4; "" to detect
	// Kernel and Initrd boot the VM directly (no boot loader): sources of
	// the same forms as Image. Cmdline is the kernel's command line.
	Kernel, Initrd, Cmdline string
	// SHA256 is the image's declared digest (hex), checked when it is
	// fetched; "" when none is declared.
	SHA256 string
	// CloudInit is the NoCloud seed attached as a CD-ROM; nil for none.
	CloudInit *CloudInit
	// GuestKit names the guest kit the VM boots instead of what the
	// runbook says (a lab's: SetGuestKit); "" for the runbook's own.
	GuestKit string
}

// Fields implements interp.Action.
func (d *Domain) Fields() []interp.Field {
	var disk any
	if d.DiskGiB > 0 {
		disk = d.DiskGiB
	}
	return []interp.Field{
		interp.F("name", d.Domain),
		interp.F("image", d.Image),
		interp.F("sha256", d.SHA256),
		interp.F("vcpus", d.VCPUs),
		interp.F("memory_mib", d.MemoryMiB),
		interp.F("disk_gib", disk),
		interp.F("domain_type", d.DomainType),
		interp.F("os_variant", d.OSVariant),
		interp.F("kernel", d.Kernel),
		interp.F("initrd", d.Initrd),
		interp.F("cmdline", d.Cmdline),
		interp.F("cloud_init", d.CloudInit.Field()),
		interp.F("guest_kit", d.GuestKit),
	}
}

// Interface is a VM NIC plugged into an OVS bridge on the VM's host
// (libvirt <interface type='bridge'> with <virtualport type='openvswitch'>),
// whose OVS Interface carries external_ids:iface-id so ovn-controller binds
// it to the logical switch port of that name.
type Interface struct {
	interp.ActionMeta
	VM      string // the libvirt domain name
	Dev     string // target dev: the tap's name on the host
	MAC     interp.MAC
	Bridge  string
	IfaceID string
}

// GuestNIC returns the VM the NIC belongs to and its logical port's
// iface-id, for ovnrun trace to find a VM's port.
func (n *Interface) GuestNIC() (vm, ifaceID string) { return n.VM, n.IfaceID }

// Fields implements interp.Action.
func (i *Interface) Fields() []interp.Field {
	return []interp.Field{
		interp.F("vm", i.VM),
		interp.F("dev", i.Dev),
		interp.F("mac", i.MAC),
		interp.F("bridge", i.Bridge),
		interp.F("iface_id", i.IfaceID),
	}
}
