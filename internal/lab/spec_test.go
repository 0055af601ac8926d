package lab

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// The domains' actions tell the lab what it needs; the lab names none of
// their types outside tests.
var (
	_ InterfaceUser = (*host.OVSBridge)(nil)
	_ InterfaceUser = (*host.Route)(nil)
	_ InterfaceUser = (*host.IPAddress)(nil)
	_ VMNIC         = (*virt.Interface)(nil)
	_ DeviceMaker   = (*host.OVSBridge)(nil)
)

// TestSpecFor reads a lab's hosts and the physical interfaces from plans:
// a bridge's ports, a route's and an address's device, but not a VM's NIC
// that a bridge names, which the VM driver makes, nor a bridge that an
// address names, which Open vSwitch makes.
func TestSpecFor(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	tests := []struct {
		name, path, src string
		want            Spec
	}{
		{"the seed", "runbooks/dgp.star", "", Spec{Name: "dgp", Runbook: "runbooks/dgp.star", Hosts: seedSpec.Hosts}},
		{"every kind of interface", "ifaces.star", `
h = host("h", address = "10.0.0.1")
o = host("o", address = "10.0.0.2")
s = ls("s")
lsp(s, "p", mac = "02:00:00:00:00:01")
def setup():
    v = vm("v", host = h, disk_gib = 1)
    attach(v, "p", dev = "tap0")
    bridge(h, "br-ex", ports = ["eth1", "tap0", "lab0"])  # lab0: the underlay, which the lab makes
    ip_address(o, "192.0.2.2/24", dev = "eth2")
    ip_route(o, "198.51.100.0/24", "192.0.2.1", dev = "eth3")
    ip_route(o, "203.0.113.0/24", "192.0.2.1")
    bridge(h, "br-tun", ports = ["eth4"])
    ip_address(h, "192.0.2.9/24", dev = "br-tun")  # on the bridge's internal port
step("setup", setup)
`, Spec{Name: "ifaces", Runbook: "ifaces.star", Hosts: []HostSpec{
			{Name: "h", Address: "10.0.0.1", Ifaces: []string{"eth1", "eth4"}},
			{Name: "o", Address: "10.0.0.2", Ifaces: []string{"eth2", "eth3"}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := interp.NewRegistry()
			for _, register := range []func(*interp.Registry) error{ovn.Register, host.Register, virt.Register, check.Register} {
				if err := register(reg); err != nil {
					t.Fatal(err)
				}
			}
			var src []byte
			if tt.src != "" {
				src = []byte(tt.src)
			}
			plan, err := interp.Evaluate(tt.path, src, interp.Options{Registry: reg, Stdlib: stdlib.FS})
			if err != nil {
				t.Fatal(err)
			}
			got, err := SpecFor(plan)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SpecFor = %+v\nwant      %+v", got, tt.want)
			}
		})
	}
}
