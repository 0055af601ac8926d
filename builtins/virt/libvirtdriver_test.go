package virt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// Tests of the driver against a real libvirtd (internal/libvirttest), with
// libvirt's test driver (test:///default: define, start, list and XML
// validation by libvirt's own parser, no QEMU) for the convergence rules,
// and with QEMU in vm_test.go.

// lab is a libvirtd host and the driver settings that reach it.
type lab struct {
	h   *libvirttest.Host
	cfg Config
	// sessions returns the sessions of a new run.
	sessions func() *remote.Sessions
}

func newLab(t *testing.T, uri string, opts ...libvirttest.Option) *lab {
	h := libvirttest.Start(t, opts...)
	local := &hostConn{Conn: remote.NewLocal("h0"), h: h}
	return &lab{h: h, cfg: Config{
		Hosts: map[string]HostConfig{"h0": {Socket: h.Socket, URI: uri, ImageDir: h.ImageDir}},
		Owner: "lab.star",
	}, sessions: func() *remote.Sessions {
		return remote.NewSessionsOver(map[string]remote.Target{"h0": {Name: "h0", Local: true, OVSRundir: h.OVSRundir}},
			map[string]remote.Conn{"h0": local})
	}}
}

// hostConn is this machine as the host: commands run here, and sockets
// that libvirt makes in its /var/lib/libvirt (guest channels) are reached
// in the daemons' mount namespace.
type hostConn struct {
	remote.Conn
	h *libvirttest.Host
}

func (c *hostConn) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	if strings.HasPrefix(path, "/var/lib/libvirt/") {
		path = c.h.InMountNS(path)
	}
	return c.Conn.DialUnix(ctx, path)
}

// driver returns a new driver (as a new run of ovnrun would make), closed
// at the end of the test.
func (l *lab) driver(t *testing.T, edit ...func(*Config)) *Driver {
	cfg := l.cfg
	cfg.Sessions = l.sessions()
	for _, e := range edit {
		e(&cfg)
	}
	d, err := NewDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// evaluate plans a runbook whose host h0 is this machine.
func evaluate(t *testing.T, src string) *interp.Plan {
	t.Helper()
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Evaluate("lab.star", []byte(`h0 = host("h0", local = True)`+"\n"+src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run plans p with d and, unless the plan fails, applies it; it returns
// the planned changes.
func run(t *testing.T, d *Driver, p *interp.Plan) ([]interp.Change, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	drivers := map[string]interp.Driver{DriverName: d}
	planned, err := engine.PlanChanges(ctx, drivers, p.Steps)
	if err != nil {
		return nil, err
	}
	var changes []interp.Change
	for _, st := range planned {
		changes = append(changes, st.Changes...)
	}
	return changes, engine.ApplyChanges(ctx, drivers, planned, io.Discard)
}

// ops renders changes as "op id" lines, for comparisons.
func ops(cs []interp.Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %s", c.Op, c.Action.Meta().ID))
	}
	return strings.Join(parts, "; ")
}

// domains lists the host's domains as "name:state:owner".
func (l *lab) domains(t *testing.T, uri string) []string {
	t.Helper()
	d := l.driver(t)
	var out []string
	err := d.host("h0").do(context.Background(), func(lv *libvirt.Libvirt) error {
		doms, _, err := lv.ConnectListAllDomains(1, 0)
		for _, dom := range doms {
			st, _, _ := lv.DomainGetState(dom, 0)
			doc, _ := lv.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
			live, _, _ := parseDomain(doc)
			out = append(out, fmt.Sprintf("%s:%s:%s", dom.Name, stateName(libvirt.DomainState(st)), live.Owner.Runbook))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestTestDriver runs the convergence rules against libvirt's test driver:
// create, leave alone, refuse to recreate without consent, recreate with
// it, refuse a domain ovnrun does not own, destroy only what it owns.
func TestTestDriver(t *testing.T) {
	l := newLab(t, "test:///default")
	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(kernel, []byte("not really a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm := func(vcpus int) string {
		return fmt.Sprintf(`vm("t1", host = h0, kernel = %q, cmdline = "console=ttyS0", memory_mib = 128, vcpus = %d)`, kernel, vcpus)
	}

	t0 := time.Now()
	cs, err := run(t, l.driver(t), evaluate(t, vm(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("define + start (test driver): %s", time.Since(t0).Round(time.Millisecond))
	if got := ops(cs); got != "create vm/h0/t1" {
		t.Errorf("first run: %s", got)
	}
	if !strings.Contains(cs[0].Note, "domain type qemu") && !strings.Contains(cs[0].Note, "domain type kvm") {
		t.Errorf("create note %q does not say the domain type", cs[0].Note)
	}
	if got := strings.Join(l.domains(t, "test:///default"), " "); got != "t1:running:lab.star test:running:" {
		t.Errorf("domains after create: %s", got)
	}

	cs, err = run(t, l.driver(t), evaluate(t, vm(1)))
	if err != nil || ops(cs) != "unchanged vm/h0/t1" {
		t.Errorf("second run: %s, %v", ops(cs), err)
	}

	// A changed VM is planned as an update and refused without consent.
	cs, err = run(t, l.driver(t), evaluate(t, vm(2)))
	var re *RecreateError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "vm h0/t1 (lab.star:2:3)") ||
		!strings.Contains(err.Error(), "vcpus 1 -> 2") || !strings.Contains(err.Error(), "--recreate-vms") {
		t.Errorf("changed VM without consent: %v", err)
	}
	if ops(cs) != "update vm/h0/t1" || len(cs[0].Diffs) != 1 || cs[0].Diffs[0].Key != "vcpus" {
		t.Errorf("changed VM planned as %s %+v", ops(cs), cs)
	}
	consent := func(c *Config) { c.RecreateVMs = true }
	if _, err := run(t, l.driver(t, consent), evaluate(t, vm(2))); err != nil {
		t.Fatalf("recreate with consent: %v", err)
	}
	if cs, err := run(t, l.driver(t), evaluate(t, vm(2))); err != nil || ops(cs) != "unchanged vm/h0/t1" {
		t.Errorf("after recreate: %s, %v", ops(cs), err)
	}

	// The test driver's own domain "test" is not ovnrun's.
	_, err = run(t, l.driver(t), evaluate(t, "\n"+`vm("test", host = h0, kernel = "/k", domain_type = "qemu")`))
	var clash *ClashError
	if !errors.As(err, &clash) || !strings.Contains(err.Error(), "vm h0/test (lab.star:3:3)") ||
		!strings.Contains(err.Error(), `a domain named "test" already exists on host h0 and ovnrun did not create it`) {
		t.Errorf("clash: %v", err)
	}
	// Nor is a domain of another runbook.
	other := func(c *Config) { c.Owner = "other.star" }
	_, err = run(t, l.driver(t, other), evaluate(t, vm(2)))
	if !errors.As(err, &clash) || !strings.Contains(err.Error(), `it belongs to runbook "lab.star"`) {
		t.Errorf("clash with another runbook: %v", err)
	}

	// Destroy removes ovnrun's domain of this runbook, and nothing else.
	d := l.driver(t)
	p := evaluate(t, vm(2))
	dcs, err := d.PlanDestroy(context.Background(), p.Steps[0].Actions)
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(dcs); got != "delete vm/h0/t1" || dcs[0].Action.Meta().Pos().Line != 2 {
		t.Errorf("destroy plan: %s at %s", got, dcs[0].Action.Meta().Pos())
	}
	step := &interp.Step{Name: "destroy"}
	if err := engine.ApplyChanges(context.Background(), map[string]interp.Driver{DriverName: d},
		[]interp.StepChanges{{Step: step, Changes: dcs}}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.domains(t, "test:///default"), " "); got != "test:running:" {
		t.Errorf("domains after destroy: %s", got)
	}
}

// TestErrors checks the errors a user meets, each naming the runbook line:
// a missing image and an unreachable libvirtd.
func TestErrors(t *testing.T) {
	l := newLab(t, "test:///default")
	_, err := run(t, l.driver(t), evaluate(t, `vm("t2", host = h0, image = "/no/such.qcow2", domain_type = "qemu")`))
	var mi *MissingImageError
	if !errors.As(err, &mi) || !strings.Contains(err.Error(), `vm h0/t2 (lab.star:2:3): image "/no/such.qcow2": no such file on host h0`) {
		t.Errorf("missing image: %v", err)
	}
	_, err = run(t, l.driver(t), evaluate(t, `vm("t2", host = h0, image = "file:///no/such.qcow2", domain_type = "qemu")`))
	if !errors.As(err, &mi) || !strings.Contains(err.Error(), "cannot read it on this machine") {
		t.Errorf("missing image to upload: %v", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err = run(t, l.driver(t), evaluate(t, `vm("t2", host = h0, image = "`+srv.URL+`/gone.qcow2", domain_type = "qemu")`))
	if !errors.As(err, &mi) || !strings.Contains(err.Error(), "host h0 cannot download it: curl: (22)") {
		t.Errorf("image URL not found: %v", err)
	}

	// libvirtd not running: the plan says so, the apply fails on it.
	gone := func(c *Config) {
		c.Hosts = map[string]HostConfig{"h0": {Socket: filepath.Join(l.h.Dir, "nothing-here"), ImageDir: l.h.ImageDir}}
	}
	p := evaluate(t, `vm("t3", host = h0, kernel = "/k", domain_type = "qemu")`)
	d := l.driver(t, gone)
	planned, err := engine.PlanChanges(context.Background(), map[string]interp.Driver{DriverName: d}, p.Steps)
	if err != nil {
		t.Fatal(err)
	}
	if c := planned[0].Changes[0]; c.Op != interp.OpCreate || !strings.Contains(c.Note, "libvirtd is not running on host h0") {
		t.Errorf("plan without libvirtd: %s %q", c.Op, c.Note)
	}
	err = engine.ApplyChanges(context.Background(), map[string]interp.Driver{DriverName: d}, planned, io.Discard)
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "vm h0/t3 (lab.star:2:3): libvirtd is not running on host h0: nothing listens on") {
		t.Errorf("apply without libvirtd: %v", err)
	}
}
