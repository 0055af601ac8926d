package host_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// syncBuffer collects what concurrent hosts print.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runbook is a runbook for a lab test; newRun evaluates it with the
// run's inventory, as ovnrun does.
type runbook struct {
	src  string
	vars map[string]string
}

func evaluate(_ *testing.T, src string, vars map[string]string) runbook {
	return runbook{src, vars}
}

// evaluateWith evaluates rb with the host and OVN builtins and inv.
func evaluateWith(t *testing.T, rb runbook, inv *remote.Inventory) *interp.Plan {
	t.Helper()
	r := interp.NewRegistry()
	if err := host.Register(r); err != nil {
		t.Fatal(err)
	}
	if err := ovn.Register(r); err != nil {
		t.Fatal(err)
	}
	opts := interp.Options{Registry: r, Vars: rb.vars, Stdlib: stdlib.FS}
	host.SetInventory(&opts, inv, "inventory.json")
	p, err := interp.Evaluate("lab.star", []byte(rb.src), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// labRun is one ovnrun run against a lab: its drivers and what it printed.
type labRun struct {
	t       *testing.T
	plan    *interp.Plan
	drivers map[string]interp.Driver
	ovs     *host.OVSDriver
	out     *syncBuffer // plan, progress, driver notes and errors
}

// newRun opens the host drivers (and, given an NB endpoint, the NB driver)
// for plan, reaching the lab's hosts through inventory from the lab's
// client namespace.
func newRun(t *testing.T, l *labhost.Lab, rb runbook, inventory []byte, env map[string]string, nb string) *labRun {
	t.Helper()
	inv, err := remote.ParseInventory("inventory.json", inventory, "")
	if err != nil {
		t.Fatal(err)
	}
	plan := evaluateWith(t, rb, inv)
	r := &labRun{t: t, plan: plan, out: &syncBuffer{}}
	rc := remote.Config{AgentSocket: "none", DialTimeout: 2 * time.Second, Getenv: func(k string) string { return env[k] }}
	if l != nil {
		rc.Dial = l.Dial // only ever from the lab's namespace
	} else {
		rc.Dial = func(_ context.Context, _, addr string) (net.Conn, error) {
			return nil, fmt.Errorf("test without a lab: refusing to dial %s", addr)
		}
	}
	hd, od, err := host.NewDrivers(plan, host.Config{Inventory: inv, Log: r.out, Remote: rc})
	if err != nil {
		t.Fatal(err)
	}
	r.ovs = od
	r.drivers = map[string]interp.Driver{"host": hd, "ovs": od}
	if nb != "" {
		d, err := ovn.ConnectNB(context.Background(), ovn.NBConfig{Endpoints: []string{nb}, Owner: ovn.Owner(plan.Runbook)})
		if err != nil {
			t.Fatal(err)
		}
		r.drivers["nb"] = d
	}
	t.Cleanup(func() {
		for _, d := range r.drivers {
			if err := d.Close(); err != nil {
				t.Errorf("close %s: %v", d.Name(), err)
			}
		}
	})
	return r
}

// apply plans the named steps, prints the plan and applies it with outs as
// the run's outputs. It returns the planned changes.
func (r *labRun) apply(outs interp.Outputs, steps ...string) ([]interp.StepChanges, error) {
	r.t.Helper()
	sel, err := r.plan.Select(steps, "")
	if err != nil {
		r.t.Fatal(err)
	}
	ctx := interp.WithOutputs(context.Background(), outs)
	planned, err := engine.PlanChanges(ctx, r.drivers, sel)
	if err != nil {
		r.out.Write([]byte(err.Error() + "\n"))
		return nil, err
	}
	if err := interp.WriteText(r.out, r.plan, planned); err != nil {
		r.t.Fatal(err)
	}
	if err := engine.ApplyChanges(ctx, r.drivers, planned, r.out); err != nil {
		r.out.Write([]byte(err.Error() + "\n"))
		return planned, err
	}
	return planned, nil
}

// seedLab is the seed's server and compute nodes, configured with the
// stdlib's central() and chassis() as runbooks/dgp.star does, plus shell
// commands and a route. The emulated hosts have no kernel datapath, hence
// ovn-bridge-datapath-type.
const seedLab = `
load("@stdlib//lab.star", "central", "chassis", "link")

h0_address = var("h0_address", "177.1.1.1")
h1_address = var("h1_address", "177.1.1.2")
home = var("h1_home", "/root")
h0 = host("h0", address = h0_address)  # chassis name read from the host
h1 = host("h1", address = h1_address, system_id = "hv1")
sb_remote = "tcp:%s:6642" % h0_address

def netdev(h):
    ovs_external_ids(h, {"ovn-bridge-datapath-type": "netdev"})

def compute():
    chassis(h1, sb_remote, encap_ip = h1_address)
    netdev(h1)

def server():
    central(h0)
    chassis(h0, sb_remote, encap_ip = h0_address, restart = True)
    netdev(h0)
    br_out = bridge(h0, "br-out", ports = [var("h0_out_iface", "ens2f1")], datapath_type = "netdev")
    bridge_mappings(h0, {"outNet": br_out})

def commands():
    sh(h1, ["sh", "-c", 'printf "%s\\n" "$@" > "$0"', home + "/args", "my vm", "it's", 'say "hi"', "a;touch " + home + "/pwned"], name = "args")
    sh(h1, "echo ran >> %s/creates.log; touch %s/marker" % (home, home), creates = home + "/marker", name = "creates")
    sh(h1, "echo ran >> %s/unless.log" % home, unless = ["test", "-e", home + "/unless.log"], name = "unless")
    sh(h1, "echo ran >> %s/always.log" % home, name = "always")
    ip_route(h1, "192.0.2.0/24", via = h0_address)

def topology():
    lr1 = lr("lr1")
    lr1_ls3 = link(lr1, ls("ls3"), "00:00:00:00:03:00", "198.51.100.254/24")
    gateway_chassis(lr1_ls3, h0)

step("compute", compute)
step("server", server)
step("commands", commands)
step("topology", topology)
`

// TestSeedServerAndCompute configures two emulated hosts as the seed's
// server and compute nodes over SSH, reads the result from each host's
// databases, resolves the gateway chassis by host name, and checks that a
// second run changes nothing.
func TestSeedServerAndCompute(t *testing.T) {
	l := labhost.New(t)
	h0 := l.AddHost("h0", labhost.WithInterfaces("ens2f1"))
	h1 := l.AddHost("h1")
	l.WriteKnownHosts("known_hosts")
	home := filepath.Join(h1.Dir, "home")
	vars := map[string]string{"h0_address": h0.Addr, "h1_address": h1.Addr, "h1_home": home}
	inventory := l.Inventory(nil)

	// Run 1: the host steps. Open vSwitch and OVN are not running yet.
	r := newRun(t, l, evaluate(t, seedLab, vars), inventory, nil, "")
	outs := interp.Outputs{}
	if _, err := r.apply(outs, "compute", "server", "commands"); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	for _, want := range []string{
		"+ ovs_external_ids h1", "the Open vSwitch database is not running (nothing listens on " + h1.OVSRundir + "/db.sock) yet",
		"~ service h0/ovn-northd", `state: "inactive" -> "active"`, "> service h0/ovn-controller",
		"+ ovn_sb_connection h0", "+ ovs_bridge h0/br-out", "> sh h1/args", "# runs unless " + home + "/marker exists",
		"Step server: ", "Step commands: ",
	} {
		if !strings.Contains(r.out.String(), want) {
			t.Errorf("run 1 output lacks %q:\n%s", want, r.out)
		}
	}
	s0 := strings.Trim(strings.TrimSpace(must(t, h0, "ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids:system-id")), `"`)
	if got, _ := outs.Get("host/h0", "system_id"); got != s0 || len(s0) < 30 {
		t.Errorf("output system_id of h0 = %q, want its system-id %q", got, s0)
	}
	checkHost(t, h1, map[string]string{"ovn-remote": "tcp:" + h0.Addr + ":6642", "ovn-encap-type": "geneve",
		"ovn-encap-ip": h1.Addr, "system-id": "hv1", "ovn-bridge-datapath-type": "netdev"})
	checkHost(t, h0, map[string]string{"ovn-remote": "tcp:" + h0.Addr + ":6642", "ovn-encap-ip": h0.Addr,
		"ovn-bridge-mappings": "outNet:br-out", "system-id": s0})
	checkEq(t, "br-out ports", must(t, h0, "ovs-vsctl", "list-ports", "br-out"), "ens2f1\n")
	checkEq(t, "br-out datapath", must(t, h0, "ovs-vsctl", "get", "Bridge", "br-out", "datapath_type"), "netdev\n")
	checkEq(t, "NB connection", must(t, h0, "ovn-nbctl", "--db=unix:"+h0.OVNRundir+"/ovnnb_db.sock", "get-connection"), "ptcp:6641\n")
	checkEq(t, "SB connection", must(t, h0, "ovn-sbctl", "--db=unix:"+h0.OVNRundir+"/ovnsb_db.sock", "get-connection"), "read-write role=\"\" ptcp:6642\n")
	checkEq(t, "argv", readFile(t, home+"/args"), "my vm\nit's\nsay \"hi\"\na;touch "+home+"/pwned\n")
	if _, err := os.Stat(home + "/pwned"); err == nil {
		t.Error("an argv element was run by the shell")
	}
	if route := must(t, h1, "ip", "route", "show", "192.0.2.0/24"); !strings.Contains(route, "via "+h0.Addr) {
		t.Errorf("route on h1: %q", route)
	}
	waitChassis(t, h0, s0, "hv1")

	sid, err := r.ovs.ReadOutput(context.Background(), "host/h0", "system_id")
	checkEq(t, "ReadOutput host/h0", sid+errString(err), s0)
	sid, err = r.ovs.ReadOutput(context.Background(), "host/h1", "system_id")
	checkEq(t, "ReadOutput host/h1", sid+errString(err), "hv1")

	// Run 2: the topology, with the NB driver; gateway_chassis names h0.
	nb := "unix:" + h0.OVNRundir + "/ovnnb_db.sock"
	r2 := newRun(t, l, evaluate(t, seedLab, vars), inventory, nil, nb)
	if _, err := r2.apply(outs, "topology"); err != nil {
		t.Fatalf("%v\n%s", err, r2.out)
	}
	checkEq(t, "gateway chassis", must(t, h0, "ovn-nbctl", "--db="+nb, "--bare", "--columns=chassis_name", "list", "Gateway_Chassis"), s0+"\n")

	// Run 3: everything again, from scratch: nothing changes, commands
	// run unless their guards hold. h0's chassis name is read before
	// planning, so the gateway chassis compares unchanged.
	r3 := newRun(t, l, evaluate(t, seedLab, vars), inventory, nil, nb)
	known := r3.ovs.KnownChassis(context.Background(), r3.plan)
	if got, _ := known.Get("host/h0", "system_id"); got != s0 || len(known) != 1 {
		t.Errorf("KnownChassis = %v, want h0's %s only", known, s0)
	}
	planned, err := r3.apply(known)
	if err != nil {
		t.Fatalf("%v\n%s", err, r3.out)
	}
	ops := map[string]interp.Op{}
	for _, st := range planned {
		for _, c := range st.Changes {
			m := c.Action.Meta()
			ops[m.ID] = c.Op
			if m.Mode == interp.Resource && c.Op != interp.OpUnchanged {
				t.Errorf("second run: %s is %s, want unchanged", m.ID, c.Op)
			}
		}
	}
	for id, want := range map[string]interp.Op{"sh/h1/args": interp.OpRun, "sh/h1/creates": interp.OpUnchanged,
		"sh/h1/unless": interp.OpUnchanged, "sh/h1/always": interp.OpRun, "service/h0/ovn-controller/restart": interp.OpRun} {
		if ops[id] != want {
			t.Errorf("second run: %s is %s, want %s", id, ops[id], want)
		}
	}
	if !strings.Contains(r3.out.String(), "No changes.") {
		t.Errorf("second plan:\n%s", r3.out)
	}
	checkEq(t, "creates.log", readFile(t, home+"/creates.log"), "ran\n")
	checkEq(t, "unless.log", readFile(t, home+"/unless.log"), "ran\n")
	checkEq(t, "always.log", readFile(t, home+"/always.log"), "ran\nran\n")
	if t.Failed() {
		t.Logf("run 1:\n%s\nrun 3:\n%s", r.out, r3.out)
	}
}

// checkHost compares external_ids of the host's Open_vSwitch row, read
// with ovs-vsctl, with want.
func checkHost(t *testing.T, h *labhost.Host, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got := must(t, h, "ovs-vsctl", "--if-exists", "get", "Open_vSwitch", ".", "external_ids:"+k)
		if strings.Trim(strings.TrimSpace(got), `"`) != v {
			t.Errorf("%s: external_ids:%s = %s, want %q", h.Name, k, strings.TrimSpace(got), v)
		}
	}
}

// waitChassis waits until every chassis named has registered in the SB.
func waitChassis(t *testing.T, central *labhost.Host, names ...string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = must(t, central, "ovn-sbctl", "--db=unix:"+central.OVNRundir+"/ovnsb_db.sock", "--bare", "--columns=name", "list", "Chassis")
		all := true
		for _, n := range names {
			all = all && strings.Contains(got, n)
		}
		if all {
			return
		}
	}
	t.Errorf("chassis in the SB: %q, want %v", got, names)
}

func must(t *testing.T, h *labhost.Host, name string, args ...string) string {
	t.Helper()
	out, err := h.Exec(name, args...)
	if err != nil {
		t.Errorf("%s: %v", h.Name, err)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return string(data)
}

func checkEq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
