package host_test

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/interp"
)

// The seed's outside host: an address on the interface of the outside
// network, a route through it, and a bridge on a host whose OVN uses the
// userspace datapath.
const outsideHost = `
h0 = host("h0", address = "177.1.1.1")
ip_address(h0, "172.16.3.253/24", dev = "ens3f1np1")
ip_route(h0, "172.16.2.0/24", via = "172.16.3.254", dev = "ens3f1np1")
bridge(h0, "br-out", ports = ["ens2f1"])
`

// TestIPAddressAndBridgeDatapath applies ip_address() (before the route
// that needs it) and a bridge without datapath_type on a host whose
// external_ids:ovn-bridge-datapath-type is netdev, then checks the host and
// that a second run changes nothing.
func TestIPAddressAndBridgeDatapath(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS(), labhost.WithInterfaces("ens3f1np1", "ens2f1"))
	l.WriteKnownHosts("known_hosts")
	must(t, h, "ovs-vsctl", "set", "Open_vSwitch", ".", "external_ids:ovn-bridge-datapath-type=netdev")
	must(t, h, "ip", "addr", "add", "192.0.2.7/24", "dev", "ens3f1np1") // someone else's: kept

	r := newRun(t, l, evaluate(t, outsideHost, nil), l.Inventory(nil), nil, "")
	planned, err := r.apply(nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	for _, c := range planned[0].Changes {
		if c.Op != interp.OpCreate {
			t.Errorf("first plan: %s", describe(c))
		}
	}
	addrs := must(t, h, "ip", "-o", "addr", "show", "dev", "ens3f1np1")
	for _, want := range []string{"inet 172.16.3.253/24", "inet 192.0.2.7/24"} {
		if !strings.Contains(addrs, want) {
			t.Errorf("ens3f1np1 lacks %s:\n%s", want, addrs)
		}
	}
	if got := must(t, h, "ip", "route", "show", "172.16.2.0/24"); !strings.Contains(got, "via 172.16.3.254 dev ens3f1np1") {
		t.Errorf("route: %q", got)
	}
	if got := strings.TrimSpace(must(t, h, "ovs-vsctl", "get", "Bridge", "br-out", "datapath_type")); got != "netdev" {
		t.Errorf("br-out datapath_type = %s, want netdev (from ovn-bridge-datapath-type)", got)
	}

	r2 := newRun(t, l, evaluate(t, outsideHost, nil), l.Inventory(nil), nil, "")
	planned, err = r2.apply(nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, r2.out)
	}
	for _, c := range planned[0].Changes {
		if c.Op != interp.OpUnchanged {
			t.Errorf("second plan: %s", describe(c))
		}
	}
}
