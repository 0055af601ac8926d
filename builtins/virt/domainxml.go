package virt

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// OwnerNS is the XML namespace of ovnrun's domain metadata.
const OwnerNS = "urn:ovnrun:libvirt:owner:1"

// owner is ovnrun's <metadata> element in a domain it defined: who owns the
// domain, the declared sources and sizes the live XML does not show (a
// fetched image's URL, not the path it was saved to), and the files ovnrun
// made for it alone, which destroy removes.
type owner struct {
	Runbook    string `xml:"runbook,attr"`
	Action     string `xml:"action,attr"`
	Image      string `xml:"image,attr,omitempty"`
	DiskGiB    int    `xml:"disk_gib,attr,omitempty"`
	Kernel     string `xml:"kernel,attr,omitempty"`
	Initrd     string `xml:"initrd,attr,omitempty"`
	Cmdline    string `xml:"cmdline,attr,omitempty"`
	OSVariant  string `xml:"os_variant,attr,omitempty"`
	DomainType string `xml:"domain_type,attr,omitempty"` // as declared; "" when probed
	Disk       string `xml:"disk,attr,omitempty"`        // the per-VM disk ovnrun created
	SHA256     string `xml:"sha256,attr,omitempty"`      // the image's declared digest
	CloudInit  string `xml:"cloud_init,attr,omitempty"`  // the seed's digest (seedDigest)
	Seed       string `xml:"seed,attr,omitempty"`        // the seed ISO ovnrun created
}

// ownerOf returns the desired metadata of a vm action.
func ownerOf(runbook string, a *Domain) owner {
	return owner{Runbook: runbook, Action: a.M.ID, Image: a.Image, DiskGiB: a.DiskGiB, Kernel: a.Kernel,
		Initrd: a.Initrd, Cmdline: a.Cmdline, OSVariant: a.OSVariant, DomainType: a.DomainType,
		SHA256: a.SHA256, CloudInit: a.CloudInit.seedDigest(a.Domain)}
}

// xml renders the element with the "ovnrun" prefix bound to OwnerNS.
// encoding/xml cannot write a prefixed element, so it is written by hand,
// attributes in a fixed order.
func (o owner) xml() string {
	var b strings.Builder
	b.WriteString(`<ovnrun:owner xmlns:ovnrun="` + OwnerNS + `"`)
	attr := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(" " + k + `="`)
		xml.EscapeText(&b, []byte(v))
		b.WriteString(`"`)
	}
	attr("runbook", o.Runbook)
	attr("action", o.Action)
	attr("image", o.Image)
	if o.DiskGiB > 0 {
		attr("disk_gib", strconv.Itoa(o.DiskGiB))
	}
	attr("kernel", o.Kernel)
	attr("initrd", o.Initrd)
	attr("cmdline", o.Cmdline)
	attr("os_variant", o.OSVariant)
	attr("domain_type", o.DomainType)
	attr("disk", o.Disk)
	attr("sha256", o.SHA256)
	attr("cloud_init", o.CloudInit)
	attr("seed", o.Seed)
	b.WriteString("/>")
	return b.String()
}

// parseOwner finds ovnrun's element in a domain's metadata, by namespace
// (libvirt keeps the prefix, but another tool could use its own).
func parseOwner(md *libvirtxml.DomainMetadata) (owner, bool) {
	if md == nil || !strings.Contains(md.XML, OwnerNS) {
		return owner{}, false
	}
	dec := xml.NewDecoder(strings.NewReader("<metadata>" + md.XML + "</metadata>"))
	for {
		tok, err := dec.Token()
		if err != nil {
			return owner{}, false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == OwnerNS && se.Name.Local == "owner" {
			var o owner
			if err := dec.DecodeElement(&o, &se); err != nil {
				return owner{}, false
			}
			return o, o.Runbook != ""
		}
	}
}

// domainSpec is what the driver puts in a domain's XML.
type domainSpec struct {
	Type           string // kvm or qemu
	Owner          owner
	Name           string
	VCPUs          int
	MemoryMiB      int
	Disk           string // the per-VM disk, "" for none
	Kernel, Initrd string // paths on the host
	Cmdline        string
	Seed           string // the cloud-init seed ISO, "" for none
}

// consoleLog is where the guest's serial console is logged on the host,
// beside libvirt's own log of the domain.
func consoleLog(domain string) string { return "/var/log/libvirt/qemu/" + domain + "-console.log" }

// domainXML renders a spec as libvirt domain XML.
//
// The machine is "pc" (i440fx): its PCI slots take hot-plugged NICs through
// ACPI with no extra controllers, which q35 would need (pcie-root-ports).
// ACPI is on for the same reason. The serial console is a pty (virsh
// console) logged to a file, so a guest's boot can be read after the fact.
// A virtio-serial channel carries commands to a guest that serves it.
func domainXML(s domainSpec) (string, error) {
	port := uint(0)
	dom := &libvirtxml.Domain{
		Type:     s.Type,
		Name:     s.Name,
		Metadata: &libvirtxml.DomainMetadata{XML: s.Owner.xml()},
		Memory:   &libvirtxml.DomainMemory{Value: uint(s.MemoryMiB), Unit: "MiB"},
		VCPU:     &libvirtxml.DomainVCPU{Value: uint(s.VCPUs)},
		OS: &libvirtxml.DomainOS{
			Type:    &libvirtxml.DomainOSType{Arch: "x86_64", Machine: "pc", Type: "hvm"},
			Kernel:  s.Kernel,
			Initrd:  s.Initrd,
			Cmdline: s.Cmdline,
		},
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices: &libvirtxml.DomainDeviceList{
			Serials: []libvirtxml.DomainSerial{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainSerialTarget{Port: &port},
				Log:    &libvirtxml.DomainChardevLog{File: consoleLog(s.Name), Append: "on"},
			}},
			Consoles: []libvirtxml.DomainConsole{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &port},
			}},
			// The guest agent's channel (guestagent.go) and ovnrun's
			// command channel (guestexec.go): libvirt picks the sockets'
			// paths when the domain starts.
			Channels: []libvirtxml.DomainChannel{{
				Source: &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind"}},
				Target: &libvirtxml.DomainChannelTarget{VirtIO: &libvirtxml.DomainChannelTargetVirtIO{Name: GuestAgentChannel}},
			}, {
				Source: &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind"}},
				Target: &libvirtxml.DomainChannelTarget{VirtIO: &libvirtxml.DomainChannelTargetVirtIO{Name: GuestChannel}},
			}},
		},
	}
	if s.Type == "kvm" {
		dom.CPU = &libvirtxml.DomainCPU{Mode: "host-model"}
	}
	if s.Disk != "" {
		dom.OS.BootDevices = []libvirtxml.DomainBootDevice{{Dev: "hd"}}
		dom.Devices.Disks = []libvirtxml.DomainDisk{{
			Device: "disk",
			Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "qcow2"},
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: s.Disk}},
			Target: &libvirtxml.DomainDiskTarget{Dev: "vda", Bus: "virtio"},
		}}
	}
	if s.Seed != "" {
		// IDE: the "pc" machine boots and hot-plugs nothing through it,
		// and every guest kernel reads it.
		dom.Devices.Disks = append(dom.Devices.Disks, libvirtxml.DomainDisk{
			Device:   "cdrom",
			Driver:   &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "raw"},
			Source:   &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: s.Seed}},
			Target:   &libvirtxml.DomainDiskTarget{Dev: "hdc", Bus: "ide"},
			ReadOnly: &libvirtxml.DomainDiskReadOnly{},
		})
	}
	return dom.Marshal()
}

// channelOf returns the host socket of a live domain's channel name (the
// command channel or the agent's) and its state ("connected" while the guest has it open); "" when it has
// none.
func channelOf(devs *libvirtxml.DomainDeviceList, name string) (path, state string) {
	if devs == nil {
		return "", ""
	}
	for _, c := range devs.Channels {
		if c.Target == nil || c.Target.VirtIO == nil || c.Target.VirtIO.Name != name ||
			c.Source == nil || c.Source.UNIX == nil {
			continue
		}
		return c.Source.UNIX.Path, c.Target.VirtIO.State
	}
	return "", ""
}

// liveDomain is what the driver reads back from a domain's XML.
type liveDomain struct {
	Type      string
	VCPUs     int
	MemoryMiB int
	Owner     owner
	Owned     bool // it carries ovnrun metadata (of any runbook)
	NICs      []liveNIC
}

// parseDomain reads a domain's XML.
func parseDomain(doc string) (*liveDomain, *libvirtxml.Domain, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(doc); err != nil {
		return nil, nil, fmt.Errorf("cannot read the domain's XML: %w", err)
	}
	ld := &liveDomain{Type: dom.Type}
	if dom.VCPU != nil {
		ld.VCPUs = int(dom.VCPU.Value)
	}
	if dom.Memory != nil {
		ld.MemoryMiB = toMiB(dom.Memory.Value, dom.Memory.Unit)
	}
	ld.Owner, ld.Owned = parseOwner(dom.Metadata)
	if dom.Devices != nil {
		for _, ni := range dom.Devices.Interfaces {
			ld.NICs = append(ld.NICs, nicOf(ni))
		}
	}
	return ld, &dom, nil
}

// toMiB converts a libvirt memory size (KiB unless a unit says otherwise).
func toMiB(v uint, unit string) int {
	shift := map[string]uint{"b": 0, "bytes": 0, "k": 10, "kib": 10, "m": 20, "mib": 20, "g": 30, "gib": 30, "t": 40, "tib": 40}
	s, ok := shift[strings.ToLower(unit)]
	if !ok {
		s = 10
	}
	return int((uint64(v) << s) >> 20)
}

// liveNIC is one <interface> of a domain.
type liveNIC struct {
	MAC, Dev, Bridge, Alias string
	OVS                     bool // virtualport type openvswitch
	XML                     libvirtxml.DomainInterface
}

// nicAliasPrefix starts the user alias of every NIC ovnrun attaches: its
// ownership mark (libvirt keeps "ua-" aliases across restarts).
const nicAliasPrefix = "ua-ovnrun-"

func nicOf(ni libvirtxml.DomainInterface) liveNIC {
	n := liveNIC{XML: ni}
	if ni.MAC != nil {
		n.MAC = strings.ToLower(ni.MAC.Address)
	}
	if ni.Target != nil {
		n.Dev = ni.Target.Dev
	}
	if ni.Source != nil && ni.Source.Bridge != nil {
		n.Bridge = ni.Source.Bridge.Bridge
	}
	if ni.Alias != nil {
		n.Alias = ni.Alias.Name
	}
	n.OVS = ni.VirtualPort != nil && ni.VirtualPort.Params != nil && ni.VirtualPort.Params.OpenVSwitch != nil
	return n
}

// owned reports whether ovnrun attached the NIC.
func (n liveNIC) owned() bool { return strings.HasPrefix(n.Alias, nicAliasPrefix) }

// nicAlias is the alias of the NIC with target dev: libvirt allows only
// letters, digits, '_' and '-' after "ua-".
func nicAlias(dev string) string {
	b := []byte(dev)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return nicAliasPrefix + string(b)
}

// interfaceXML renders the NIC attach() plugs in: a bridge interface on an
// OVS bridge, with the port's MAC, the chosen tap name and a virtio model.
// libvirt adds the port to the bridge with external_ids attached-mac and an
// iface-id of its own (a UUID); the driver then sets iface-id to the port.
func interfaceXML(a *Interface) (string, error) {
	ni := &libvirtxml.DomainInterface{
		MAC:    &libvirtxml.DomainInterfaceMAC{Address: a.MAC.String()},
		Source: &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: a.Bridge}},
		VirtualPort: &libvirtxml.DomainInterfaceVirtualPort{Params: &libvirtxml.DomainInterfaceVirtualPortParams{
			OpenVSwitch: &libvirtxml.DomainInterfaceVirtualPortParamsOpenVSwitch{}}},
		Target: &libvirtxml.DomainInterfaceTarget{Dev: a.Dev},
		Model:  &libvirtxml.DomainInterfaceModel{Type: "virtio"},
		Alias:  &libvirtxml.DomainAlias{Name: nicAlias(a.Dev)},
	}
	return ni.Marshal()
}
