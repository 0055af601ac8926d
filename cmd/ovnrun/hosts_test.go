package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// TestHostFlagsAndInventory: the inventory rewrites the plan's hosts, a
// host it does not list is warned about, and the drivers open without
// dialling anything.
func TestHostFlagsAndInventory(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "lab.json")
	os.WriteFile(inv, []byte(`{"known_hosts": "kh", "hosts": {"h0": {"address": "10.0.0.5", "port": 2222, "identity_file": "keys/h0"}}}`), 0o600)
	var f hostFlags
	fs := pflag.NewFlagSet("ovnrun", pflag.ContinueOnError)
	addHostFlags(fs, &f)
	if err := fs.Parse([]string{"--inventory", inv, "--accept-new-host-keys"}); err != nil {
		t.Fatal(err)
	}
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := interp.Evaluate("lab.star", []byte(`h0 = host("h0", address = "177.1.1.1")
h1 = host("h1", address = "177.1.1.2")
`), interp.Options{Registry: reg, Stdlib: stdlib.FS})
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	drivers, known, err := openHostDrivers(context.Background(), &f, plan, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drivers {
		defer d.Close()
	}
	if len(drivers) != 2 || drivers[0].Name() != "host" || drivers[1].Name() != "ovs" || len(known) != 0 {
		t.Errorf("drivers %v, known %v", drivers, known)
	}
	if h := plan.Hosts["h0"]; h.Address != "10.0.0.5" || h.Port != 2222 || h.IdentityFile != filepath.Join(dir, "keys/h0") {
		t.Errorf("h0 = %+v", h)
	}
	if !strings.Contains(stderr.String(), "does not list host(s) h1: reaching them at the runbook's addresses") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
