package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// TestHostFlagsAndInventory: the inventory is an input to evaluation, so
// the plan's hosts are those reached and the plan says where that came
// from; a host it does not list is warned about, and the drivers open
// without dialling anything.
func TestHostFlagsAndInventory(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "lab.json")
	var pf planFlags
	f := &pf.live.hosts
	fs := pflag.NewFlagSet("ovnrun", pflag.ContinueOnError)
	addHostFlags(fs, f)
	if err := fs.Parse([]string{"--inventory", inv, "--accept-new-host-keys"}); err != nil {
		t.Fatal(err)
	}
	runbook := filepath.Join(dir, "lab.star")
	os.WriteFile(runbook, []byte(`h0 = host("h0", address = "177.1.1.1")
h1 = host("h1", address = "177.1.1.2")
h2 = host("h2", address = "177.1.1.3", user = "admin")
`), 0o600)
	os.WriteFile(inv, []byte(`{"known_hosts": "kh", "hosts": {"h0": {"address": "10.0.0.5", "identity_file": "keys/h0"}, "h2": {"address": "10.0.0.7", "port": 2222}}}`), 0o600)
	_, inputs, err := runInputs(&pf)
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	plan, code := evaluateRunbook(context.Background(), runbook, nil, nil, defaultEvalLimits(), inputs, &stderr)
	if plan == nil {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var text strings.Builder
	if err := interp.WriteText(&text, plan, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"host h0 = root@10.0.0.5:22 (inventory " + inv + "; the runbook says 177.1.1.1)\n",
		"host h1 = root@177.1.1.2:22\n",
		"host h2 = admin@10.0.0.7:2222 (inventory " + inv + "; the runbook says admin@177.1.1.3:22)\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the plan lacks %q:\n%s", want, text.String())
		}
	}
	opts := engine.Options{Domains: domains(nil), Hosts: f.options(), Stderr: &stderr}
	drivers, closeDrivers, err := engine.Open(context.Background(), plan, opts, check.DriverName)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDrivers()
	var names []string
	for n := range drivers {
		names = append(names, n)
	}
	if sort.Strings(names); strings.Join(names, " ") != "check host ovs" {
		t.Errorf("drivers %v", names)
	}
	if h := plan.Hosts["h0"]; h.Address != "10.0.0.5" || h.Port != 22 || h.IdentityFile != filepath.Join(dir, "keys/h0") {
		t.Errorf("h0 = %+v", h)
	}
	if !strings.Contains(stderr.String(), "does not list host(s) h1: reaching them at the runbook's addresses") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
