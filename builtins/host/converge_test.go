package host_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/interp"
)

const drifted = `
h0 = host("h0", address = "177.1.1.1")
ovs_external_ids(h0, {"ovn-remote": "tcp:192.0.2.1:6642", "ovn-encap-type": "geneve"})
bridge(h0, "br-out", ports = ["ens2f1"], datapath_type = "netdev")
ip_route(h0, "192.0.2.0/24", via = var("gw", "192.0.2.1"))
service(h0, "ovn-controller", state = "stopped")
nb_connection(h0, "ptcp:6641", inactivity_probe = 60000)
`

// TestConvergesFromDrift starts from a host configured by hand, partly as
// the runbook wants: the plan shows exactly what differs, apply changes
// only that (other external_ids keys, other ports and the Connection row
// still wanted are kept, its inactivity_probe set), and the next plan is
// empty.
func TestConvergesFromDrift(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS(), labhost.WithInterfaces("ens2f1", "ens2f2"))
	l.WriteKnownHosts("known_hosts")
	nb := "--db=unix:" + h.OVNRundir + "/ovnnb_db.sock"
	oldGW, gw := strings.TrimSuffix(h.Addr, ".10")+".5", strings.TrimSuffix(h.Addr, ".10")+".1"
	for _, cmd := range [][]string{
		{"ovs-vsctl", "set", "Open_vSwitch", ".", "external_ids:ovn-remote=tcp:old:6642", "external_ids:foo=bar"},
		{"ovs-vsctl", "add-br", "br-out", "--", "set", "Bridge", "br-out", "datapath_type=netdev"},
		{"ovs-vsctl", "set", "Bridge", "br-out", "datapath_type=system"},
		{"ovs-vsctl", "--no-wait", "add-br", "br-x", "--", "add-port", "br-x", "ens2f2"},
		{"ip", "route", "add", "192.0.2.0/24", "via", oldGW},
		{"systemctl", "start", "ovn-controller"},
		{"systemctl", "start", "ovn-northd"},
		{"ovn-nbctl", nb, "set-connection", "ptcp:6641", "ptcp:6650"},
	} {
		must(t, h, cmd[0], cmd[1:]...)
	}
	keptConn := must(t, h, "ovn-nbctl", nb, "--bare", "--columns=_uuid", "find", "Connection", "target=ptcp\\:6641")

	r := newRun(t, l, evaluate(t, drifted, map[string]string{"gw": gw}), l.Inventory(nil), nil, "")
	planned, err := r.apply(nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	want := map[string]string{
		"ovs_external_ids/h0/ovn-encap-type": `update external_ids:ovn-encap-type: (unset) -> "geneve"; external_ids:ovn-remote: "tcp:old:6642" -> "tcp:192.0.2.1:6642"`,
		"ovs_bridge/h0/br-out":               `update datapath_type: "system" -> "netdev"; ports: ["br-out"] -> ["br-out", "ens2f1"]`,
		"ip_route/h0/192.0.2.0/24":           fmt.Sprintf("update via: %q -> %q", oldGW, gw),
		"service/h0/ovn-controller":          `update state: "active" -> "inactive"`,
		"ovn_nb_connection/h0":               `update targets: ["ptcp:6641", "ptcp:6650"] -> ["ptcp:6641"]; inactivity_probe: (unset) -> 60000`,
	}
	for _, c := range planned[0].Changes {
		if got, w := describe(c), want[c.Action.Meta().ID]; got != w {
			t.Errorf("%s: planned %s\nwant %s", c.Action.Meta().ID, got, w)
		}
	}
	checkHost(t, h, map[string]string{"foo": "bar", "ovn-remote": "tcp:192.0.2.1:6642", "ovn-encap-type": "geneve"})
	checkEq(t, "br-out ports", must(t, h, "ovs-vsctl", "list-ports", "br-out"), "ens2f1\n")
	checkEq(t, "br-x ports", must(t, h, "ovs-vsctl", "list-ports", "br-x"), "ens2f2\n")
	checkEq(t, "ovn-controller", must(t, h, "systemctl", "is-active", "ovn-northd")+strings.TrimSpace(mustFail(t, h, "systemctl", "is-active", "ovn-controller")), "active\ninactive")
	checkEq(t, "kept Connection", must(t, h, "ovn-nbctl", nb, "--bare", "--columns=_uuid", "list", "Connection"), keptConn)
	checkEq(t, "its inactivity_probe", must(t, h, "ovn-nbctl", nb, "get", "Connection", strings.TrimSpace(keptConn), "inactivity_probe"), "60000\n")
	if route := must(t, h, "ip", "route", "show", "192.0.2.0/24"); !strings.Contains(route, "via "+gw+" ") {
		t.Errorf("route: %q", route)
	}

	r2 := newRun(t, l, evaluate(t, drifted, map[string]string{"gw": gw}), l.Inventory(nil), nil, "")
	planned, err = r2.apply(nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, r2.out)
	}
	for _, c := range planned[0].Changes {
		if c.Op != interp.OpUnchanged {
			t.Errorf("second plan: %s is %s", c.Action.Meta().ID, describe(c))
		}
	}

	// attach() binds a NIC to its logical port through the same client.
	ctx := context.Background()
	for range 2 {
		if err := r2.ovs.SetInterfaceExternalIDs(ctx, "h0", "ens2f1", map[string]string{"iface-id": "h0_v0_vnet1"}); err != nil {
			t.Fatal(err)
		}
	}
	ids, ok, err := r2.ovs.InterfaceExternalIDs(ctx, "h0", "ens2f1")
	if !ok || err != nil || ids["iface-id"] != "h0_v0_vnet1" {
		t.Errorf("InterfaceExternalIDs = %v, %v, %v", ids, ok, err)
	}
	checkEq(t, "iface-id", must(t, h, "ovs-vsctl", "get", "Interface", "ens2f1", "external_ids:iface-id"), "h0_v0_vnet1\n")

	// A port that another bridge holds is refused before anything changes.
	r3 := newRun(t, l, evaluate(t, `h0 = host("h0", address = "177.1.1.1")
bridge(h0, "br-y", ports = ["ens2f2"])
`, nil), l.Inventory(nil), nil, "")
	if _, err := r3.apply(nil); err == nil || !strings.Contains(err.Error(), "ovs_bridge h0/br-y (lab.star:2:7): port ens2f2 is on bridge br-x") {
		t.Errorf("err = %v", err)
	}
}

// describe renders a change as "op key: old -> new; ...".
func describe(c interp.Change) string {
	s := string(c.Op)
	var diffs []string
	for _, d := range c.Diffs {
		diffs = append(diffs, fmt.Sprintf("%s: %s -> %s", d.Key, interp.FormatValue(d.Old), interp.FormatValue(d.New)))
	}
	if len(diffs) > 0 {
		s += " " + strings.Join(diffs, "; ")
	}
	return s
}

func mustFail(t *testing.T, h *labhost.Host, name string, args ...string) string {
	t.Helper()
	out, err := h.Exec(name, args...)
	if err == nil {
		t.Errorf("%s %v succeeded", name, args)
	}
	return strings.SplitN(out, "\n", 2)[0]
}

// TestLocalHost runs commands of a local=True host on this machine,
// without SSH.
func TestLocalHost(t *testing.T) {
	dir := t.TempDir()
	src := fmt.Sprintf(`me = host("me", local = True)
sh(me, ["sh", "-c", 'printf "%%s\\n" "$@" > "$0"', %q, "a b", "it's"], creates = %q)
`, filepath.Join(dir, "out"), filepath.Join(dir, "out"))
	plan := evaluate(t, src, nil)
	for range 2 {
		r := newRun(t, nil, plan, []byte(`{"hosts": {}}`), nil, "")
		if _, err := r.apply(nil); err != nil {
			t.Fatalf("%v\n%s", err, r.out)
		}
	}
	checkEq(t, "out", readFile(t, filepath.Join(dir, "out")), "a b\nit's\n")
}
