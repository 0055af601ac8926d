package stdlib_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	if err := ovn.Register(r); err != nil {
		return nil, err
	}
	return r, host.Register(r)
}

func TestScripts(t *testing.T) {
	startest.Run(t, "testdata/*.star", newRegistry, interp.Options{Stdlib: stdlib.FS})
}

// Every error of a library function is reported at the runbook line that
// called it (line 4 below), naming the function, with the library's own
// position kept in the message.
func TestErrorsNameTheCallersLine(t *testing.T) {
	const head = `load("@stdlib//ovn.star", "distributed_gateway", "dual_stack_switch", "gateway_router", "ha_gateway", "web_tier")
load("@stdlib//net.star", "cidr_address", "cidr_hosts", "macs"); load("@stdlib//lab.star", "central", "chassis")
h0 = host("h0", address = "192.0.2.1", system_id = "ch0")
`
	for _, tc := range []struct{ call, want string }{
		{`gateway_router("gw", h0, mac = "00:00:00:00:09:00")`, "gateway_router: mac=, network=, snat= and dnat= need external="},
		{`gateway_router("gw", h0, external = "ext", mac = "00:00:00:00:09:00")`, "gateway_router: external= needs mac= and network="},
		{`gateway_router("gw", h0, external = "ext", mac = "00:00:00:00:09", network = "172.16.9.1/24")`, `gateway_router: lrp: for parameter "mac": invalid MAC address`},
		{`gateway_router("gw", h0, external = 7, mac = "00:00:00:00:09:00", network = "172.16.9.1/24")`, "gateway_router: switch: got int, want a switch or a switch name"},
		{`distributed_gateway("r1", "out", "00:00:00:00:0a:00", "172.16.10.1/24", h0)`, "distributed_gateway: router: got string, want a router"},
		{`distributed_gateway(lr("r1"), "out", "00:00:00:00:0a:00", "172.16.10.1/24", [])`, "distributed_gateway: chassis: want at least one chassis"},
		{`distributed_gateway(lr("r1"), "out", "00:00:00:00:0a:00", "172.16.10.1", h0)`, "distributed_gateway: lrp: "},
		{`ha_gateway(ls("x"), "out", "00:00:00:00:0a:00", "172.16.10.1/24", h0)`, "ha_gateway: router: got logical_switch, want a router"},
		{`ha_gateway(lr("r1"), "out", "00:00:00:00:0a:00", "172.16.10.1/24", {})`, "ha_gateway: ha_chassis_group: chassis: want at least one"},
		{`web_tier("web", "10.0.0.100", [])`, "web_tier: backends: want at least one logical port"},
		{`web_tier("web", "10.0.0.100", [lsp(ls("s"), "p", mac = "0a:00:00:00:00:01", ips = "dynamic")])`, "web_tier: backend p has no static ipv4 address"},
		{`dual_stack_switch("s", "10.0.0.0/24", "2001:db8::", mac = "00:00:00:00:01:00")`, "dual_stack_switch: mac= is the router port's and needs router="},
		{`dual_stack_switch("s", "10.0.0.0/24", "2001:db8::", router = lr("r"))`, "dual_stack_switch: router= needs mac="},
		{`dual_stack_switch("s", "10.0.0.0/24", "2001:db8::", router = lr("r"), mac = "00:00:00:00:01:00", gateway4 = 300)`, "dual_stack_switch: cidr_host: address 300 is outside 10.0.0.0/24"},
		{`cidr_address("10.0.0.0/24", 256)`, "cidr_address: cidr_host: address 256 is outside"},
		{`cidr_hosts("10.0.0.0/24", 1, -1)`, "cidr_hosts: count -1: want 0 or more"},
		{`central()`, "central: give host, or cluster=[h0, h1, h2]"},
		{`central(h0, cluster = [h0, host("h1", address = "192.0.2.2")])`, "central: give host or cluster=, not both"},
		{`central(cluster = [h0])`, "central: cluster: want 2 or more hosts, got 1"},
		{`chassis(h0, "tcp:192.0.2.1:6642", "192.0.2.1", external_ids = {"ovn-encap-ip": "192.0.2.9"})`, "chassis: external_ids: ovn-encap-ip is set by chassis() itself"},
		{`chassis(h0, "tcp:192.0.2.1:6642", "192.0.2.1", external_ids = {"ovn-monitor-all": "yes"})`, "chassis: ovs_external_ids: "},
		{`macs("02", 1, -1)`, "macs: count -1: want 0 or more"},
		{`macs("02:00:00:00:00", 255, 2)`, "macs: mac: 256 does not fit"},
	} {
		reg, err := newRegistry()
		if err != nil {
			t.Fatal(err)
		}
		_, err = interp.Evaluate("runbook.star", []byte(head+tc.call+"\n"), interp.Options{Registry: reg, Stdlib: stdlib.FS})
		var e *interp.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an *interp.Error", tc.call, err)
			continue
		}
		if e.Pos.File != "runbook.star" || e.Pos.Line != 4 || !strings.HasPrefix(e.Msg, tc.want) || !strings.Contains(e.Msg, "(at @stdlib//") {
			t.Errorf("%s:\n got %s\nwant runbook.star:4:...: %s... (at @stdlib//...)", tc.call, e, tc.want)
		}
	}
}
