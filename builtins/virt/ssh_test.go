package virt_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// TestOverSSH reaches libvirtd as on a real lab: through the host's SSH
// connection (direct-streamlocal to the libvirt socket), with the file
// commands run over the same connection. The host is an emulated one
// (internal/labhost) whose sshd reaches the test libvirtd's socket. It is
// an external test: internal/labhost depends on this package.
func TestOverSSH(t *testing.T) {
	labhost.Require(t)
	lv := libvirttest.Start(t)
	lab := labhost.New(t)
	hh := lab.AddHost("h0")
	targets := map[string]remote.Target{"h0": {Name: "h0", Address: hh.Addr, IdentityFiles: []string{lab.ClientKey}}}
	sessions, err := remote.NewSessions(remote.Config{KnownHosts: lab.WriteKnownHosts("known_hosts"), Dial: lab.Dial, AgentSocket: "none"}, targets)
	if err != nil {
		t.Fatal(err)
	}
	sessions.Retain() // the test's own share, for its two drivers in turn
	defer sessions.Release()
	cfg := virt.Config{
		Sessions: sessions,
		Hosts:    map[string]virt.HostConfig{"h0": {Socket: lv.Socket, URI: "test:///default", ImageDir: lv.ImageDir}},
		Owner:    "lab.star",
	}
	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(kernel, []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := interp.NewRegistry()
	if err := host.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := virt.Register(reg); err != nil {
		t.Fatal(err)
	}
	src := `vm("s1", host = host("h0", address = "` + hh.Addr + `"), kernel = "` + kernel + `", memory_mib = 64, domain_type = "qemu")`
	plan, err := interp.Evaluate("lab.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	apply := func() string {
		t.Helper()
		d, err := virt.NewDriver(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Closed at the end only: the test driver forgets its domains when
		// its last connection closes.
		t.Cleanup(func() { d.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		drivers := map[string]interp.Driver{virt.DriverName: d}
		planned, err := engine.PlanChanges(ctx, drivers, plan.Steps)
		if err == nil {
			err = engine.ApplyChanges(ctx, drivers, planned, io.Discard)
		}
		if err != nil {
			t.Fatalf("over SSH: %v", err)
		}
		var ops []string
		for _, c := range planned[0].Changes {
			ops = append(ops, string(c.Op)+" "+c.Action.Meta().ID)
		}
		return strings.Join(ops, "; ")
	}
	t0 := time.Now()
	if got := apply(); got != "create vm/h0/s1" {
		t.Errorf("first run over SSH: %s", got)
	}
	t.Logf("plan + define + start over SSH: %s", time.Since(t0).Round(time.Millisecond))
	if got := apply(); got != "unchanged vm/h0/s1" {
		t.Errorf("second run over SSH: %s", got)
	}
}
