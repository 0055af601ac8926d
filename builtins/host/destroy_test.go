package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/interp"
)

// hostSettings declares, on one host, some of everything a destroy undoes,
// next to things that were there before (the same value, the same route,
// address, bridge or running service, also when restarted).
const hostSettings = `
h0 = host("h0", address = "177.1.1.1")
gw = var("gw", "192.0.2.1")

def ovs():
    ovs_external_ids(h0, {"ovn-remote": var("remote", "tcp:127.0.0.1:6642"), "ovn-encap-type": "geneve", "same": "as-before"})
    bridge(h0, "br-pre", ports = ["ens2f1"])
    bridge(h0, "br-new", ports = ["ens2f2"])

def net():
    ip_address(h0, "203.0.113.1/24", dev = "ens3")
    ip_address(h0, "203.0.113.2/24", dev = "ens3")
    ip_route(h0, "198.51.100.0/24", via = gw)
    ip_route(h0, "192.0.2.0/24", via = gw)
    service(h0, "openvswitch")
    service(h0, "ovn-controller")
    service(h0, "ovn-northd", state = "restarted")

step("ovs", ovs)
step("net", net)
`

// TestDestroyUndoesHostSettings applies host settings over SSH to a
// namespace host with its own Open vSwitch, in two runs the way a failed
// run and its resumption do (the second with another ovn-remote), then
// destroys from new drivers, as a new process would: only what ovnrun
// did is undone, and earlier values come back.
func TestDestroyUndoesHostSettings(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS(), labhost.WithInterfaces("ens2f1", "ens2f2", "ens3"))
	l.WriteKnownHosts("known_hosts")
	gw := strings.TrimSuffix(h.Addr, ".10") + ".1"
	for _, cmd := range [][]string{
		{"ovs-vsctl", "set", "Open_vSwitch", ".", "external_ids:ovn-remote=tcp:old:6642", "external_ids:same=as-before"},
		{"ovs-vsctl", "--no-wait", "add-br", "br-pre"},
		{"ip", "addr", "add", "203.0.113.1/24", "dev", "ens3"},
		{"ip", "route", "add", "198.51.100.0/24", "via", gw},
		{"systemctl", "start", "ovn-northd"},
	} {
		must(t, h, cmd[0], cmd[1:]...)
	}
	vars := map[string]string{"gw": gw}
	r := newRun(t, l, evaluate(t, hostSettings, vars), l.Inventory(nil), nil, "")
	if _, err := r.apply(nil, "ovs"); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	vars["remote"] = "tcp:127.0.0.2:6642"
	r = newRun(t, l, evaluate(t, hostSettings, vars), l.Inventory(nil), nil, "")
	if _, err := r.apply(nil); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	checkHost(t, h, map[string]string{"ovn-remote": "tcp:127.0.0.2:6642", "ovn-encap-type": "geneve",
		"ovnrun/lab.star/external_ids/ovn-remote": "=tcp:old:6642"})
	if ids := must(t, h, "ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids"); strings.Contains(ids, "/same") {
		t.Errorf("a key set to the value it had is recorded: %s", ids)
	}
	checkEq(t, "ovn-controller before", must(t, h, "systemctl", "is-active", "ovn-controller"), "active\n")

	d := newRun(t, l, evaluate(t, hostSettings, vars), l.Inventory(nil), nil, "")
	planned := planDestroy(t, d)
	var got []string
	for _, c := range planned[0].Changes {
		got = append(got, c.Action.Meta().ID+" "+describe(c))
	}
	want := []string{
		"undo/ip_route/h0/192.0.2.0/24 delete",
		"undo/ip_address/h0/ens3 203.0.113.2/24 delete",
		"undo/ovs_port/h0/ens2f1 delete",
		"undo/ovs_bridge/h0/br-new delete",
		"undo/ovs_external_ids/h0/ovn-encap-type delete",
		`undo/ovs_external_ids/h0/ovn-remote update external_ids:ovn-remote: "tcp:127.0.0.2:6642" -> "tcp:old:6642"`,
		"undo/service/h0/ovn-controller delete",
	}
	checkEq(t, "destroy plan", strings.Join(got, "\n"), strings.Join(want, "\n"))
	if err := engine.ApplyChanges(context.Background(), d.drivers, planned, d.out); err != nil {
		t.Fatalf("%v\n%s", err, d.out)
	}

	ids := must(t, h, "ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids")
	if strings.Contains(ids, "ovnrun/") || strings.Contains(ids, "ovn-encap-type") {
		t.Errorf("external_ids after destroy: %s", ids)
	}
	checkHost(t, h, map[string]string{"ovn-remote": "tcp:old:6642", "same": "as-before"})
	checkEq(t, "bridges", must(t, h, "ovs-vsctl", "list-br"), "br-int\nbr-pre\n")
	checkEq(t, "br-pre ports", must(t, h, "ovs-vsctl", "list-ports", "br-pre"), "")
	if addrs := must(t, h, "ip", "-o", "addr", "show", "dev", "ens3"); !strings.Contains(addrs, "203.0.113.1/24") || strings.Contains(addrs, "203.0.113.2/") {
		t.Errorf("addresses of ens3 after destroy: %s", addrs)
	}
	checkEq(t, "routes", must(t, h, "ip", "route", "show", "via", gw), "198.51.100.0/24 dev eth0 \n")
	checkEq(t, "openvswitch", must(t, h, "systemctl", "is-active", "openvswitch"), "active\n")
	checkEq(t, "ovn-northd, restarted", must(t, h, "systemctl", "is-active", "ovn-northd"), "active\n")
	checkEq(t, "ovn-controller", mustFail(t, h, "systemctl", "is-active", "ovn-controller"), "inactive")

	// Undone means forgotten: a second destroy has nothing to do.
	if again := planDestroy(t, newRun(t, l, evaluate(t, hostSettings, vars), l.Inventory(nil), nil, "")); len(again[0].Changes) != 0 {
		t.Errorf("second destroy plans %d changes", len(again[0].Changes))
	}
	if t.Failed() {
		t.Logf("destroy:\n%s", d.out)
	}
}

// planDestroy plans the destroy of r's plan as the engine does, and
// prints it.
func planDestroy(t *testing.T, r *labRun) []interp.StepChanges {
	t.Helper()
	var actions []interp.Action
	for _, s := range r.plan.Steps {
		actions = append(actions, s.Actions...)
	}
	cs, err := r.drivers["host"].(*host.HostDriver).PlanDestroy(context.Background(), actions)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	planned := []interp.StepChanges{{Step: interp.DestroyStep(r.plan), Changes: cs}}
	if err := interp.WriteText(r.out, r.plan, planned); err != nil {
		t.Fatal(err)
	}
	return planned
}
