package virt

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/ovnrun/ovnrun/interp"
)

func testDomain() *Domain {
	a := &Domain{Domain: "v0", Image: "https://images.example.test/rhel8.4.qcow2", VCPUs: 2, MemoryMiB: 2048,
		DiskGiB: 20, OSVariant: "rhel8.4", Kernel: "/boot/vmlinuz", Initrd: "/boot/initrd.img", Cmdline: `console=ttyS0 x="a&b"`}
	a.M = interp.Meta{ID: "vm/h0/v0", Kind: "vm", Name: "h0/v0", Driver: DriverName, Host: "h0"}
	return a
}

// TestDomainXMLRoundTrip renders a domain and reads back what the driver
// compares: sizes, type, and the owner metadata with every declared source.
func TestDomainXMLRoundTrip(t *testing.T) {
	a := testDomain()
	o := ownerOf("dgp.star", a)
	o.Disk = "/var/lib/libvirt/images/ovnrun/ovnrun-v0.qcow2"
	doc, err := domainXML(domainSpec{Type: "qemu", Owner: o, Name: a.Domain, VCPUs: a.VCPUs, MemoryMiB: a.MemoryMiB,
		Disk: o.Disk, Kernel: a.Kernel, Initrd: a.Initrd, Cmdline: a.Cmdline})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<domain type="qemu">`, `machine="pc"`, "<acpi>", `<ovnrun:owner xmlns:ovnrun="` + OwnerNS + `"`,
		`cmdline="console=ttyS0 x=&#34;a&amp;b&#34;"`, `<log file="/var/log/libvirt/qemu/v0-console.log" append="on">`,
		`<target dev="vda" bus="virtio">`} {
		if !strings.Contains(doc, want) {
			t.Errorf("domain XML lacks %s:\n%s", want, doc)
		}
	}
	live, _, err := parseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !live.Owned || live.Owner != o {
		t.Errorf("owner read back = %+v (owned %v), want %+v", live.Owner, live.Owned, o)
	}
	if live.Type != "qemu" || live.VCPUs != 2 || live.MemoryMiB != 2048 {
		t.Errorf("read back type %s, %d vcpus, %d MiB", live.Type, live.VCPUs, live.MemoryMiB)
	}
	ds := &domainState{live: live, active: true}
	if d := domainDiffs(a, ds); len(d) != 0 {
		t.Errorf("diffs against itself: %+v", d)
	}
	b := *a
	b.VCPUs, b.Image = 4, "/other.qcow2"
	got := domainDiffs(&b, ds)
	if len(got) != 2 || got[0].Key != "vcpus" || got[1].Key != "image" || !needsRecreate(got) {
		t.Errorf("diffs = %+v, want vcpus and image", got)
	}
	if d := domainDiffs(a, &domainState{live: live}); len(d) != 1 || d[0].Key != "state" || needsRecreate(d) {
		t.Errorf("diffs of a stopped domain = %+v, want state only", d)
	}
	validate(t, "domain", doc)
}

// TestParseLibvirtXML reads XML as libvirt writes it back: memory in KiB,
// the metadata re-indented, an attached NIC with libvirt's additions.
func TestParseLibvirtXML(t *testing.T) {
	doc := `<domain type='kvm' id='3'>
  <name>v0</name>
  <metadata>
    <ovnrun:owner xmlns:ovnrun="` + OwnerNS + `" runbook="dgp.star" action="vm/h0/v0" disk="/d/ovnrun-v0.qcow2"/>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <devices>
    <interface type='bridge'>
      <mac address='02:AC:10:FF:01:94'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='477f4dfe-9b66-4bef-b7d3-79f0ebb6457f'/>
      </virtualport>
      <target dev='h0_v0_vnet1'/>
      <model type='virtio'/>
      <alias name='ua-ovnrun-h0_v0_vnet1'/>
    </interface>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
  </devices>
</domain>`
	live, _, err := parseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	if live.MemoryMiB != 128 || live.Type != "kvm" || live.Owner.Disk != "/d/ovnrun-v0.qcow2" {
		t.Errorf("parsed %+v", live)
	}
	if len(live.NICs) != 2 {
		t.Fatalf("NICs = %+v", live.NICs)
	}
	n := live.NICs[0]
	if n.MAC != "02:ac:10:ff:01:94" || n.Dev != "h0_v0_vnet1" || n.Bridge != "br-int" || !n.OVS || !n.owned() {
		t.Errorf("NIC = %+v", n)
	}
	if m := live.NICs[1]; m.OVS || m.owned() || m.Bridge != "" {
		t.Errorf("network NIC = %+v", m)
	}
	if _, ok := parseOwner(nil); ok {
		t.Error("nil metadata is owned")
	}
}

func TestInterfaceXML(t *testing.T) {
	mac, _ := interp.ParseMAC("04:ac:10:ff:01:94")
	a := &Interface{VM: "v0", Dev: "h0_v0_vnet1", MAC: mac, Bridge: "br-int", IfaceID: "h0_v0_vnet1"}
	doc, err := interfaceXML(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<interface type="bridge">`, `<mac address="04:ac:10:ff:01:94">`, `<source bridge="br-int">`,
		`<virtualport type="openvswitch">`, `<target dev="h0_v0_vnet1">`, `<model type="virtio">`, `<alias name="ua-ovnrun-h0_v0_vnet1">`} {
		if !strings.Contains(doc, want) {
			t.Errorf("interface XML lacks %s:\n%s", want, doc)
		}
	}
	// libvirt's schema has no device root: check the NIC inside a domain.
	var dom libvirtxml.Domain
	base, err := domainXML(domainSpec{Type: "qemu", Owner: owner{Runbook: "x.star", Action: "vm/h0/v0"}, Name: "v0", VCPUs: 1, MemoryMiB: 64})
	if err == nil {
		err = dom.Unmarshal(base)
	}
	var ni libvirtxml.DomainInterface
	if err == nil {
		err = ni.Unmarshal(doc)
	}
	if err != nil {
		t.Fatal(err)
	}
	dom.Devices.Interfaces = append(dom.Devices.Interfaces, ni)
	withNIC, err := dom.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "domain", withNIC)
	if got := nicAlias("eth0.100"); got != "ua-ovnrun-eth0_100" {
		t.Errorf("nicAlias = %s", got)
	}
}

func TestToMiB(t *testing.T) {
	for _, c := range []struct {
		v    uint
		unit string
		want int
	}{{131072, "KiB", 128}, {131072, "", 128}, {2048, "MiB", 2048}, {2, "GiB", 2048}, {1 << 30, "bytes", 1024}} {
		if got := toMiB(c.v, c.unit); got != c.want {
			t.Errorf("toMiB(%d, %q) = %d, want %d", c.v, c.unit, got, c.want)
		}
	}
}

// validate checks doc against libvirt's schema with virt-xml-validate when
// it is installed (scripts/install-virt-deps.sh installs it).
func validate(t *testing.T, kind, doc string) {
	t.Helper()
	bin, err := exec.LookPath("virt-xml-validate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("virt-xml-validate not installed (run scripts/install-virt-deps.sh)")
		}
		t.Log("virt-xml-validate not installed; schema not checked")
		return
	}
	f := filepath.Join(t.TempDir(), kind+".xml")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, f, kind).CombinedOutput(); err != nil {
		t.Errorf("virt-xml-validate: %v\n%s\n%s", err, out, doc)
	}
}
