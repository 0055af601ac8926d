package ovn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/testtime"
	"github.com/ovnrun/ovnrun/interp"
)

// Every test here talks to daemons it starts itself on unix sockets in a
// temporary directory; nothing dials the lab addresses of the seed.

// topology is a small lab: a switch with DHCP and a dynamic port, a router
// with two peer links, a localnet port, a distributed gateway port, a NAT
// rule and a route. The MAC of vm1 is a variable so a test can change one
// field.
const topology = `
mac = var("vm1_mac", "04:ac:10:ff:01:94")
def topo():
    ls1 = ls("ls1", subnet="172.16.1.0/24", ipv6_prefix="2001:db8:1::0")
    d4 = dhcp("172.16.1.0/24", server_id="172.16.1.254", server_mac="00:00:00:00:01:00",
              lease_time=36000, router="172.16.1.254", dns_server="172.16.1.254")
    d6 = dhcp("2001:db8:1::0/64", server_id="00:00:00:00:01:00", dns_server="2001:db8:1::254")
    lsp(ls1, "vm1", mac=mac, ips="dynamic", dhcpv4=d4, dhcpv6=d6)
    r = lr("lr1")
    lrp(r, "lr1-ls1", mac="00:00:00:00:01:00", networks=["172.16.1.254/24"], peer=ls1)
    ls3 = ls("ls3")
    up = lrp(r, "lr1-ls3", mac="00:00:00:00:03:00", networks=["172.16.3.254/24"], peer=ls3)
    localnet(ls3, "ls3-localnet", network_name="outNet")
    gateway_chassis(up, chassis="chassis-1", priority=10)
    nat(r, type="snat", external_ip="172.16.3.254", logical_ip="172.16.1.0/24")
    route(r, "0.0.0.0/0", "172.16.3.253")
step("topology", topo)
`

// evaluate evaluates a runbook held in a string with the OVN builtins.
func evaluate(t testing.TB, name, src string, vars map[string]string) *interp.Plan {
	t.Helper()
	reg := interp.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	p, err := interp.Evaluate(name, []byte(src), interp.Options{Registry: reg, Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect connects an NB driver for runbook test.star.
func connect(t testing.TB, endpoint string, mods ...func(*NBConfig)) *NBDriver {
	t.Helper()
	cfg := NBConfig{Endpoints: []string{endpoint}, Owner: "test.star"}
	for _, m := range mods {
		m(&cfg)
	}
	d, err := ConnectNB(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func drivers(d *NBDriver) map[string]interp.Driver { return map[string]interp.Driver{"nb": d} }

func plan(t testing.TB, d *NBDriver, p *interp.Plan) []interp.StepChanges {
	t.Helper()
	sc, err := engine.PlanChanges(testCtx(t), drivers(d), p.Steps)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func apply(t testing.TB, d *NBDriver, p *interp.Plan) []interp.StepChanges {
	t.Helper()
	sc := plan(t, d, p)
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	return sc
}

func planText(t testing.TB, p *interp.Plan, sc []interp.StepChanges) string {
	var b strings.Builder
	if err := interp.WriteText(&b, p, sc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func nbctl(t testing.TB, nb *daemons.Server, args ...string) string {
	t.Helper()
	out, err := nb.NBCtl(args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func TestApplyConvergesAndIsIdempotent(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	p := evaluate(t, "runbooks/test.star", topology, nil)

	start := time.Now()
	sc := apply(t, d, p)
	t.Logf("first apply: %v, %d transaction(s)", time.Since(start), d.Transactions())
	if s := interp.Summarize(sc); s.Add != 14 || s.Change+s.Unchanged != 0 {
		t.Errorf("first plan: %+v, want 14 to add", s)
	}
	if n := d.Transactions(); n != 1 {
		t.Errorf("one step took %d transactions, want 1", n)
	}

	// The rows, as ovn-nbctl sees them.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "Logical_Switch", "ls1", "other_config:subnet"}, `"172.16.1.0/24"`},
		{[]string{"lsp-get-addresses", "vm1"}, "04:ac:10:ff:01:94 dynamic"},
		{[]string{"lsp-get-type", "ls3-localnet"}, "localnet"},
		{[]string{"lsp-get-options", "ls1-lr1"}, "router-port=lr1-ls1"},
		{[]string{"lrp-get-gateway-chassis", "lr1-ls3"}, "lr1-ls3-chassis-1    10"},
		{[]string{"--bare", "--columns=external_ip,logical_ip,type", "find", "NAT", "type=snat"}, "172.16.3.254\n172.16.1.0/24\nsnat"},
		{[]string{"lr-route-list", "lr1"}, "IPv4 Routes\nRoute Table <main>:\n                0.0.0.0/0              172.16.3.253 dst-ip"},
		{[]string{"get", "Logical_Switch", "ls1", "external_ids"}, `{"ovnrun:action"="logical_switch/ls1", "ovnrun:runbook"=test.star}`},
	} {
		if got := nbctl(t, c.NB, tc.args...); got != tc.want {
			t.Errorf("ovn-nbctl %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	if got := nbctl(t, c.NB, "lsp-get-ls", "ls1-lr1"); !strings.HasSuffix(got, " (ls1)") {
		t.Errorf("ovn-nbctl lsp-get-ls ls1-lr1 = %q, want ls1", got)
	}
	if got := nbctl(t, c.NB, "lsp-get-dhcpv4-options", "vm1"); !strings.HasSuffix(got, " (172.16.1.0/24)") {
		t.Errorf("vm1 DHCPv4 options = %q", got)
	}
	if got := nbctl(t, c.NB, "lsp-get-dhcpv6-options", "vm1"); !strings.HasSuffix(got, " (2001:db8:1::0/64)") {
		t.Errorf("vm1 DHCPv6 options = %q", got)
	}

	// northd assigns the dynamic addresses; the driver reads them on demand.
	addr, err := d.ReadOutput(testCtx(t), "logical_switch_port/vm1", "dynamic_addresses.ipv4")
	if err != nil || !strings.HasPrefix(addr, "172.16.1.") {
		t.Errorf("dynamic IPv4 of vm1 = %q, %v", addr, err)
	}

	// A second run: nothing to do, and nothing sent.
	w := watch(t, c.NB.Sock)
	start = time.Now()
	p = evaluate(t, "runbooks/test.star", topology, nil)
	sc = plan(t, d, p)
	outputs := interp.Outputs{}
	if err := engine.ApplyChanges(interp.WithOutputs(testCtx(t), outputs), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("no-op plan and apply: %v", time.Since(start))
	w.sync(t)
	// Apply reports the addresses northd has assigned, unchanged port or not.
	if got, _ := outputs.Get("logical_switch_port/vm1", "dynamic_addresses.ipv4"); got != addr {
		t.Errorf("output dynamic_addresses.ipv4 = %q, want %q (outputs %v)", got, addr, outputs)
	}
	if got, _ := outputs.Get("logical_switch_port/vm1", "dynamic_addresses.ipv6"); !strings.HasPrefix(got, "2001:db8:1:") {
		t.Errorf("output dynamic_addresses.ipv6 = %q", got)
	}
	if s := interp.Summarize(sc); s.Unchanged != 14 || s.Line() != "No changes." {
		t.Errorf("second plan: %+v %q", s, s.Line())
	}
	if n := d.Transactions(); n != 1 {
		t.Errorf("a second apply sent %d transaction(s)", n-1)
	}
	if n := w.events.Load(); n != 0 {
		t.Errorf("the NB saw %d row changes during a no-op apply", n)
	}
}

func TestOneFieldChangeIsOneUpdate(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	apply(t, d, evaluate(t, "test.star", topology, nil))

	before := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Logical_Switch_Port")
	p := evaluate(t, "test.star", topology, map[string]string{"vm1_mac": "04:ac:10:ff:01:99"})
	w := watch(t, nb.Sock)
	sc := plan(t, d, p)
	w.sync(t)
	if n := w.events.Load(); n != 0 {
		t.Errorf("a dry-run made %d row changes", n)
	}
	var updates []interp.Change
	for _, c := range sc[0].Changes {
		if c.Op != interp.OpUnchanged {
			updates = append(updates, c)
		}
	}
	if len(updates) != 1 || updates[0].Op != interp.OpUpdate || updates[0].Action.Meta().ID != "logical_switch_port/vm1" {
		t.Fatalf("changes other than unchanged: %+v", updates)
	}
	want := []interp.FieldDiff{{Key: "addresses", Old: []string{"04:ac:10:ff:01:94 dynamic"}, New: []string{"04:ac:10:ff:01:99 dynamic"}}}
	if got := updates[0].Diffs; !equalDiffs(got, want) {
		t.Errorf("diffs = %+v, want %+v", got, want)
	}
	text := planText(t, p, sc)
	if !strings.Contains(text, `addresses: ["04:ac:10:ff:01:94 dynamic"] -> ["04:ac:10:ff:01:99 dynamic"]`) ||
		!strings.Contains(text, "Plan: 0 to add, 1 to change, 0 to destroy.") {
		t.Errorf("plan text:\n%s", text)
	}

	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err != nil {
		t.Fatal(err)
	}
	if got := nbctl(t, nb, "lsp-get-addresses", "vm1"); got != "04:ac:10:ff:01:99 dynamic" {
		t.Errorf("addresses after apply = %q", got)
	}
	if after := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Logical_Switch_Port"); after != before {
		t.Errorf("ports were recreated:\n%s\nthen\n%s", before, after)
	}
	w.sync(t)
	if n := w.events.Load(); n != 1 {
		t.Errorf("the NB saw %d row changes (%v), want 1 (the port)", n, w.seen)
	}
}

func equalDiffs(a, b []interp.FieldDiff) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || interp.FormatValue(a[i].Old) != interp.FormatValue(b[i].Old) ||
			interp.FormatValue(a[i].New) != interp.FormatValue(b[i].New) {
			return false
		}
	}
	return true
}

func TestDryRunSendsNothing(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	dbFile := filepath.Join(nb.Dir, "nb.db")
	w := watch(t, nb.Sock)
	before, err := os.Stat(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	sc := plan(t, d, evaluate(t, "test.star", topology, nil))
	if s := interp.Summarize(sc); s.Add != 14 {
		t.Errorf("plan on an empty NB: %+v", s)
	}
	w.sync(t)
	// The one record written since is the watcher's second sentinel row.
	data, err := os.ReadFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	added := string(data[before.Size():])
	if w.events.Load() != 0 || d.Transactions() != 0 || strings.Count(added, "OVSDB JSON ") != 1 || !strings.Contains(added, "ovnrun-test-sync-2") {
		t.Errorf("dry-run changed the NB: %d events, %d transactions, records added to the db file:\n%s",
			w.events.Load(), d.Transactions(), added)
	}
}

func TestUnreachableNBFailsWithinTimeout(t *testing.T) {
	dir := t.TempDir()
	// A server that accepts and never answers: only the timeout ends the wait.
	mute, err := net.Listen("unix", filepath.Join(dir, "mute.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// Giving up costs no more than connecting, beyond the timeout.
	nb := daemons.StartNB(t)
	cost := testtime.Measure(t, "connecting to an NB", func() {
		d, err := ConnectNB(context.Background(), NBConfig{Endpoints: []string{nb.Sock}, Owner: "t"})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
	})
	for _, ep := range []string{"unix:" + filepath.Join(dir, "nothing.sock"), "tcp:127.0.0.1:1", "unix:" + filepath.Join(dir, "mute.sock")} {
		start := time.Now()
		_, err := ConnectNB(context.Background(), NBConfig{Endpoints: []string{ep}, Owner: "t", ConnectTimeout: 700 * time.Millisecond})
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), ep) || !strings.Contains(err.Error(), "cannot connect") {
			t.Errorf("%s: err = %v, want one naming the endpoint", ep, err)
		}
		cost.Within(t, ep+": failed", took, 700*time.Millisecond)
		t.Logf("%s: %v", ep, err)
	}
}

func TestMissingColumnIsPlanTimeError(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	// An NB whose schema lacks Logical_Switch_Port tag_request, which the
	// localnet tag= needs (no OVN from 22.03 on lacks a column ovnrun
	// writes, so the test makes such a schema).
	schema := strings.Replace(readFile(t, daemons.DefaultNBSchema), `"tag_request": {`, `"tag_request_gone": {`, 1)
	path := filepath.Join(t.TempDir(), "old.ovsschema")
	if err := os.WriteFile(path, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := daemons.StartNB(t, daemons.WithSchema(path))
	d := connect(t, nb.Sock)

	// Without tag=, the missing column is no obstacle.
	plan(t, d, evaluate(t, "test.star", topology, nil))

	src := "def f():\n    s = ls(\"ext\")\n    localnet(s, \"ext-ln\", network_name=\"phys\", tag=100)\nstep(\"t\", f)\n"
	_, err := engine.PlanChanges(testCtx(t), drivers(d), evaluate(t, "test.star", src, nil).Steps)
	want := "column tag_request of table Logical_Switch_Port is not in the server's OVN_Northbound schema version " + nb.SchemaVersion
	var missing *ovsdbmodel.MissingError
	if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &missing) || !strings.Contains(err.Error(), "test.star:3:13") {
		t.Errorf("err = %v\nwant it to say %q at test.star:3:13", err, want)
	}
	if d.Transactions() != 0 {
		t.Error("a plan-time error sent a transaction")
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEverySchema applies, re-plans and destroys the test topology on an NB
// of each OVN version kept in ../shared/ovn-schemas (22.03 to 26.03).
func TestEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	schemas, _ := filepath.Glob("../../../shared/ovn-schemas/*.ovsschema")
	if len(schemas) == 0 {
		t.Log("no ../shared/ovn-schemas: testing the installed schema only")
	}
	for _, schema := range append([]string{daemons.DefaultNBSchema}, schemas...) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(schema))
			d := connect(t, nb.Sock)
			if d.SchemaVersion() != nb.SchemaVersion {
				t.Errorf("schema version %s, server's %s", d.SchemaVersion(), nb.SchemaVersion)
			}
			p := evaluate(t, "test.star", topology, nil)
			apply(t, d, p)
			if got := nbctl(t, nb, "lrp-get-gateway-chassis", "lr1-ls3"); got != "lr1-ls3-chassis-1    10" {
				t.Errorf("gateway chassis = %q", got)
			}
			if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
				t.Errorf("second plan: %+v", s)
			}
			destroy(t, d, p)
			for _, spec := range tables {
				if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", spec.Name); got != "" {
					t.Errorf("%s holds rows after destroy: %s", spec.Name, got)
				}
			}
		})
	}
}

// Checks on many hosts read a port's dynamic addresses at once, right after
// the step that created it: each must wait for the transaction to show, not
// only the first (the others used to read the lagging replica and fail with
// "is not in the NB"). Each round creates one more port and reads it from 8
// goroutines, so that a lagging read is met at least once.
func TestReadOutputConcurrentlyAfterApply(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	for round := range 10 {
		src := `
def topology():
    sw = ls("ls1", subnet="10.1.0.0/16")
    for i in range(int(var("n", "1"))):
        lsp(sw, "p%d" % i, mac="0a:00:00:00:00:%d" % (10 + i), ips="dynamic")
step("topology", topology)
`
		apply(t, d, evaluate(t, "test.star", src, map[string]string{"n": fmt.Sprint(round + 1)}))
		errs := make(chan error, 8)
		for range cap(errs) {
			go func() {
				_, err := d.ReadOutput(testCtx(t), fmt.Sprintf("logical_switch_port/p%d", round), "dynamic_addresses.ipv4")
				errs <- err
			}()
		}
		for range cap(errs) {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// A check to a port waits for the port to be up: bound by a chassis, its
// Port_Binding up, which ovn-northd copies into the NB.
func TestReadOutputUpWaitsForBinding(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	apply(t, d, evaluate(t, "runbooks/test.star", topology, nil))
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := d.ReadOutput(testCtx(t), "logical_switch_port/vm1", "up")
		done <- result{v, err}
	}()
	if got := nbctl(t, c.NB, "get", "Logical_Switch_Port", "vm1", "up"); got == "true" {
		t.Fatalf("vm1 is up before any chassis bound it")
	}
	select {
	case r := <-done:
		t.Fatalf("ReadOutput(up) returned before the port was bound: %q, %v", r.v, r.err)
	default:
	}
	for _, args := range [][]string{
		{"chassis-add", "ch0", "geneve", "127.0.0.1"},
		{"lsp-bind", "vm1", "ch0"},
		{"set", "Port_Binding", "vm1", "up=true"},
	} {
		if _, err := c.SBCtl(args...); err != nil {
			t.Fatal(err)
		}
	}
	if r := <-done; r.err != nil || r.v != "true" {
		t.Errorf("ReadOutput(up) = %q, %v", r.v, r.err)
	}
}

// A ping's wait_s bounds the wait for its port to be up through the
// context's deadline, below the default two minutes as above them: a port
// that no chassis binds is reported after the caller's bound.
func TestReadOutputUpUntilDeadline(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	apply(t, d, evaluate(t, "runbooks/test.star", topology, nil))
	ctx, cancel := context.WithTimeout(testCtx(t), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.ReadOutput(ctx, "logical_switch_port/vm1", "up")
	if err == nil || !strings.Contains(err.Error(), "logical_switch_port/vm1 is not up after ") || strings.Contains(err.Error(), "after 2m") {
		t.Errorf("ReadOutput(up) of a port no chassis binds, with a 700ms deadline: %v", err)
	}
	if took := time.Since(start); took >= upTimeout {
		t.Errorf("it took %s, the default bound", took)
	}
}
