package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// TestSSHConfigFlag: --ssh-config is read when the run opens its drivers,
// a file that cannot be read or parsed is an error naming it, and none
// reads nothing. Nothing is dialled.
func TestSSHConfigFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad_config")
	os.WriteFile(bad, []byte("Host hv1\n  Match Exec \"true\"\n"), 0o600)
	good := filepath.Join(dir, "config")
	os.WriteFile(good, []byte("Host hv1\n  HostName 10.0.0.6\n  ProxyJump bastion\n"), 0o600)
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := interp.Evaluate("lab.star", []byte(`host("h1", address = "hv1")`+"\n"), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, want string }{
		{filepath.Join(dir, "missing"), "ssh config: open " + filepath.Join(dir, "missing")},
		{bad, "ssh config " + bad},
		{good, ""},
		{"none", ""},
	} {
		var f hostFlags
		fs := pflag.NewFlagSet("ovnrun", pflag.ContinueOnError)
		addHostFlags(fs, &f)
		if err := fs.Parse([]string{"--ssh-config", tc.flag, "--known-hosts", filepath.Join(dir, "kh")}); err != nil {
			t.Fatal(err)
		}
		opts := engine.Options{Domains: domains(nil), Hosts: f.options(), Stderr: &strings.Builder{}}
		_, closeDrivers, err := engine.Open(context.Background(), plan, opts, check.DriverName)
		if err == nil {
			closeDrivers()
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("--ssh-config %s: err = %v, want %q", tc.flag, err, tc.want)
		}
	}
}
