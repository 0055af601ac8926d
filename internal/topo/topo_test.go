package topo_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/testdiff"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"

	. "github.com/ovnrun/ovnrun/internal/topo"
)

// repoRoot is the repository root, where runbook paths read as users type them.
var repoRoot, _ = filepath.Abs("../..")

// evaluate evaluates a runbook of the repository (src nil) or the given
// source, with every builtin.
func evaluate(t *testing.T, path string, src []byte) *interp.Plan {
	t.Helper()
	t.Chdir(repoRoot)
	reg := interp.NewRegistry()
	for _, register := range []func(*interp.Registry) error{ovn.Register, host.Register, virt.Register, check.Register} {
		if err := register(reg); err != nil {
			t.Fatal(err)
		}
	}
	p, err := interp.Evaluate(path, src, interp.Options{Registry: reg, Stdlib: stdlib.FS})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const h0Chassis = "dfe51fb0-0c76-437c-ad95-709b98998b4f"

// TestSeedTopology checks the model of the seed lab against its hand-drawn
// picture: ls1, ls2 and ls3 around lr1, the VM ports with their VMs, the
// localnet uplink through br-out on h0, and h0 as lr1-ls3's gateway chassis.
func TestSeedTopology(t *testing.T) {
	topo := FromPlan(evaluate(t, "runbooks/dgp.star", nil))

	if got := names(topo.Switches, func(s *Switch) string { return s.Name }); !slices.Equal(got, []string{"ls1", "ls2", "ls3"}) {
		t.Errorf("switches = %v, want ls1 ls2 ls3", got)
	}
	if got := names(topo.Routers, func(r *Router) string { return r.Name }); !slices.Equal(got, []string{"lr1"}) {
		t.Fatalf("routers = %v, want lr1", got)
	}
	lr1 := topo.Router("lr1")
	for i, sw := range []string{"ls1", "ls2", "ls3"} {
		rp := lr1.Port("lr1-" + sw)
		if rp == nil {
			t.Fatalf("lr1 has no port lr1-%s", sw)
		}
		want := RouterPort{Name: "lr1-" + sw, MAC: fmt.Sprintf("00:00:00:00:0%d:00", i+1),
			Networks: []string{fmt.Sprintf("172.16.%d.254/24", i+1)}, Switch: sw, SwitchPort: sw + "-lr1"}
		if sw == "ls3" {
			want.GatewayChassis = []GatewayChassis{{Chassis: Chassis{Name: h0Chassis, Host: "h0"}}}
		}
		if !reflect.DeepEqual(*rp, want) {
			t.Errorf("router port %s = %+v, want %+v", rp.Name, *rp, want)
		}
		peer := topo.Switch(sw).Port(sw + "-lr1")
		if peer == nil || peer.Type != "router" || peer.RouterPort != rp.Name || !slices.Equal(peer.Addresses, []string{rp.MAC}) {
			t.Errorf("peer of %s = %+v, want a router port with address %s", rp.Name, peer, rp.MAC)
		}
	}

	vifs := map[string]VIF{ // port -> the one NIC bound to it
		"h0_v0_vnet1": {Host: "h0", VM: "v0", Dev: "h0_v0_vnet1", MAC: "04:ac:10:ff:01:94"},
		"h0_v1_vnet1": {Host: "h0", VM: "v1", Dev: "h0_v1_vnet1", MAC: "04:ac:10:ff:01:96"},
		"h1_v0_vnet2": {Host: "h1", VM: "v0", Dev: "h1_v0_vnet2", MAC: "02:ac:10:ff:01:95"},
		"h1_v1_vnet2": {Host: "h1", VM: "v1", Dev: "h1_v1_vnet2", MAC: "02:ac:10:ff:01:97"},
	}
	wantPorts := map[string][]string{
		"ls1": {"h0_v0_vnet1", "h0_v1_vnet1", "ls1-lr1"},
		"ls2": {"h1_v0_vnet2", "h1_v1_vnet2", "ls2-lr1"},
		"ls3": {"ls3-localnet", "ls3-lr1"},
	}
	for sw, want := range wantPorts {
		s := topo.Switch(sw)
		if got := names(s.Ports, func(p *SwitchPort) string { return p.Name }); !slices.Equal(got, want) {
			t.Errorf("ports of %s = %v, want %v", sw, got, want)
		}
		for _, p := range s.Ports {
			vif, isVM := vifs[p.Name]
			switch {
			case isVM:
				if p.Type != "" || !slices.Equal(p.Addresses, []string{vif.MAC + " dynamic"}) || !slices.Equal(p.VIFs, []VIF{vif}) {
					t.Errorf("VM port %s = %+v, want addresses %q and VIF %+v", p.Name, *p, vif.MAC+" dynamic", vif)
				}
			case len(p.VIFs) > 0:
				t.Errorf("port %s has VIFs %v, want none", p.Name, p.VIFs)
			}
		}
	}
	ln := topo.Switch("ls3").Port("ls3-localnet")
	if ln.Type != "localnet" || ln.NetworkName != "outNet" {
		t.Errorf("ls3-localnet = %+v, want a localnet port on outNet", *ln)
	}
	h0 := topo.Host("h0")
	wantBridge := []*Bridge{{Name: "br-out", Ifaces: []string{"ens2f1"}, Networks: []string{"outNet"}}}
	if !reflect.DeepEqual(h0.Bridges, wantBridge) || !h0.Chassis || h0.SystemID != h0Chassis {
		t.Errorf("h0 = %s, want chassis %s with bridge br-out (ens2f1) carrying outNet", testdiff.JSON(h0), h0Chassis)
	}
	if got := names(topo.Hosts, func(h *Host) string { return h.Name }); !slices.Equal(got, []string{"h0", "h1", "outside"}) {
		t.Errorf("hosts = %v", got)
	}
	// The seed leaves the other NICs unbound: they belong to no port.
	for _, nic := range topo.Host("h1").VMs[0].NICs {
		if bound := nic.Dev == "h1_v0_vnet2"; (nic.Port != "") != bound {
			t.Errorf("h1 v0 NIC %s bound to %q", nic.Dev, nic.Port)
		}
	}

	wantLinks := []string{
		"peer lrp:lr1-ls1 -- lsp:ls1-lr1",
		"peer lrp:lr1-ls2 -- lsp:ls2-lr1",
		"peer lrp:lr1-ls3 -- lsp:ls3-lr1",
		"gateway_chassis lrp:lr1-ls3 -- host:h0 (gateway chassis, priority 0)",
		"vif lsp:h0_v0_vnet1 -- nic:h0/v0/h0_v0_vnet1",
		"vif lsp:h0_v1_vnet1 -- nic:h0/v1/h0_v1_vnet1",
		"vif lsp:h1_v0_vnet2 -- nic:h1/v0/h1_v0_vnet2",
		"vif lsp:h1_v1_vnet2 -- nic:h1/v1/h1_v1_vnet2",
		"localnet lsp:ls3-localnet -- net:outNet",
		"bridge_mapping net:outNet -- bridge:h0/br-out",
		"route host:outside -- net:outNet (ens3f1np1)",
	}
	var got []string
	for _, l := range topo.Links() {
		got = append(got, l.String())
	}
	if !slices.Equal(got, wantLinks) {
		t.Errorf("links (-want +got):\n%s", testdiff.Lines(strings.Join(wantLinks, "\n"), strings.Join(got, "\n")))
	}
}

// TestResolve checks how New ties parts together in the cases the seed
// does not have.
func TestResolve(t *testing.T) {
	hosts := func() []*Host {
		return []*Host{
			{Name: "gw", SystemID: "chassis-gw", VMs: []*VM{{Name: "vm", NICs: []NIC{{Dev: "tap0", IfaceID: "p1"}, {Dev: "tap1", IfaceID: "nope"}}}}},
			{Name: "hv"}, // system-id unknown until apply
		}
	}
	tests := []struct {
		name    string
		routers []*Router
		want    []string
	}{
		{"chassis matched by system-id", []*Router{{Name: "r", Ports: []*RouterPort{{Name: "rp", GatewayChassis: []GatewayChassis{
			{Chassis: Chassis{Name: "chassis-gw"}, Priority: 10}}}}}},
			[]string{"gateway_chassis lrp:rp -- host:gw (gateway chassis, priority 10)", "vif lsp:p1 -- nic:gw/vm/tap0"}},
		{"chassis of a host known by name only", []*Router{{Name: "r", Ports: []*RouterPort{{Name: "rp", GatewayChassis: []GatewayChassis{
			{Chassis: Chassis{Host: "hv"}}}}}}},
			[]string{"gateway_chassis lrp:rp -- host:hv (gateway chassis, priority 0)", "vif lsp:p1 -- nic:gw/vm/tap0"}},
		{"chassis that is no host, highest priority first", []*Router{{Name: "r", Ports: []*RouterPort{{Name: "rp", GatewayChassis: []GatewayChassis{
			{Chassis: Chassis{Name: "elsewhere"}, Priority: 1}, {Chassis: Chassis{Name: "chassis-gw"}, Priority: 2}}}}}},
			[]string{"gateway_chassis lrp:rp -- host:gw (gateway chassis, priority 2)",
				"gateway_chassis lrp:rp -- chassis:elsewhere (gateway chassis, priority 1)", "vif lsp:p1 -- nic:gw/vm/tap0"}},
		{"router peers and a gateway router", []*Router{
			{Name: "a", Chassis: &Chassis{Name: "chassis-gw"}, Ports: []*RouterPort{{Name: "a-b", Peer: "b-a"}}},
			{Name: "b", Ports: []*RouterPort{{Name: "b-a", Peer: "a-b"}}}},
			[]string{"gateway_router router:a -- host:gw (gateway router)", "peer lrp:a-b -- lrp:b-a", "vif lsp:p1 -- nic:gw/vm/tap0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := []*Switch{{Name: "s", Ports: []*SwitchPort{{Name: "p1"}}}}
			topo := New("test", sw, tt.routers, hosts())
			var got []string
			for _, l := range topo.Links() {
				got = append(got, l.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("links (-want +got):\n%s", testdiff.Lines(strings.Join(tt.want, "\n"), strings.Join(got, "\n")))
			}
			if !topo.Host("gw").Chassis && strings.Contains(strings.Join(got, "\n"), "host:gw") {
				t.Errorf("gw is a gateway chassis but not marked as a chassis")
			}
			if nics := topo.Host("gw").VMs[0].NICs; nics[0].Port != "p1" || nics[1].Port != "" {
				t.Errorf("NIC ports = %q, %q; want p1 and none", nics[0].Port, nics[1].Port)
			}
		})
	}
}

func names[T any](items []T, name func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}
