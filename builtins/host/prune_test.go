package host_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// pruneSettings declares a bridge and an external_ids key on h0 and, with
// -D full=true, a second key (which had a value before) and a route.
// -D none=true declares the host and nothing on it.
const pruneSettings = `
h0 = host("h0", address = "177.1.1.1")
gw = var("gw", "192.0.2.1")
if not var("none", False):
    ids = {"ovn-encap-type": "geneve"}
    if var("full", True):
        ids["ovn-remote"] = "tcp:127.0.0.1:6642"
        ip_route(h0, "198.51.100.0/24", via = gw)
    ovs_external_ids(h0, ids)
    bridge(h0, "br-keep")
`

// TestPruneUndoesHostSettings applies host settings to a namespace host
// with sshd and Open vSwitch through the engine, as ovnrun does, then
// removes the route and a key from the runbook: --no-prune keeps them, an
// apply undoes them (the key gets its earlier value back) and keeps the
// bridge. A runbook that then declares nothing on the host still prunes
// there, as the journal says the last run changed settings on it; the run
// after that does not open the host drivers at all.
func TestPruneUndoesHostSettings(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS())
	l.WriteKnownHosts("known_hosts")
	gw := strings.TrimSuffix(h.Addr, ".10") + ".1"
	must(t, h, "ovs-vsctl", "set", "Open_vSwitch", ".", "external_ids:ovn-remote=tcp:old:6642")
	inv, err := remote.ParseInventory("inventory.json", l.Inventory(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "journal")
	opens := 0
	run := func(noPrune bool, vars map[string]string) string {
		t.Helper()
		vars["gw"] = gw
		plan := evaluateWith(t, evaluate(t, pruneSettings, vars), inv)
		hostDrivers := engine.DriverSpec{Names: []string{"host", "ovs"}, Destroy: 3, DestroyRecorded: true,
			Open: func(_ context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
				opens++
				hd, od, err := host.NewDrivers(env.Plan, host.Config{Inventory: inv, Log: env.Log, Owner: env.Owner,
					HeldHosts: engine.HeldHosts(env.Held, "host", "ovs"),
					Remote:    remote.Config{AgentSocket: "none", DialTimeout: 2 * time.Second, Dial: l.Dial}})
				return []interp.Driver{hd, od}, nil, err
			}}
		out := &syncBuffer{}
		err := engine.Run(context.Background(), plan, engine.Options{
			Domains: []engine.Domain{host.Registration()}, Overrides: []engine.DriverSpec{hostDrivers},
			Owner: "hp", NoPrune: noPrune, Journal: engine.JournalOptions{Path: journal},
			Hosts: engine.HostOptions{SSHConfig: "none"}, Stdout: out, Stderr: out,
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out.String()
	}
	route := func() string { return must(t, h, "ip", "route", "show", "198.51.100.0/24") }

	run(false, map[string]string{})
	checkHost(t, h, map[string]string{"ovn-remote": "tcp:127.0.0.1:6642", "ovn-encap-type": "geneve"})
	if route() == "" {
		t.Fatal("the route was not added")
	}

	removed := map[string]string{"full": "false"}
	if out := run(true, removed); strings.Contains(out, "prune") {
		t.Errorf("--no-prune planned a prune:\n%s", out)
	}
	checkHost(t, h, map[string]string{"ovn-remote": "tcp:127.0.0.1:6642"})
	if route() == "" {
		t.Error("--no-prune removed the route")
	}

	out := run(false, removed)
	for _, want := range []string{"Step prune", "- ip_route h0/198.51.100.0/24", "~ ovs_external_ids h0/ovn-remote", "no longer declares it"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
	checkHost(t, h, map[string]string{"ovn-remote": "tcp:old:6642", "ovn-encap-type": "geneve",
		"ovnrun/hp/external_ids/ovn-encap-type": "-", "ovnrun/hp/bridge/br-keep": "-"})
	if r := route(); r != "" {
		t.Errorf("the route was kept: %s", r)
	}
	checkEq(t, "bridges", must(t, h, "ovs-vsctl", "list-br"), "br-keep\n")
	if out := run(false, removed); strings.Contains(out, "prune") {
		t.Errorf("a second run prunes again:\n%s", out)
	}

	// Nothing declared on h0: the journal's holds open the host drivers.
	opens = 0
	out = run(false, map[string]string{"none": "true"})
	if opens != 1 || !strings.Contains(out, "- ovs_bridge h0/br-keep") {
		t.Errorf("a runbook declaring nothing on h0 opened the host drivers %d times; plan:\n%s", opens, out)
	}
	checkEq(t, "bridges after all is pruned", must(t, h, "ovs-vsctl", "list-br"), "")
	if ids := must(t, h, "ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids"); strings.Contains(ids, "ovnrun/") || strings.Contains(ids, "ovn-encap-type") {
		t.Errorf("external_ids after all is pruned: %s", ids)
	}
	opens = 0
	run(false, map[string]string{"none": "true"})
	if opens != 0 {
		t.Errorf("with nothing left on h0, the host drivers were opened %d times", opens)
	}
}
