package virt

import (
	"strings"
	"testing"

	"go.starlark.net/syntax"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	if err := host.Register(r); err != nil {
		return nil, err
	}
	if err := Register(r); err != nil {
		return nil, err
	}
	return r, startest.RegisterTestPort(r)
}

func TestScripts(t *testing.T) {
	startest.Run(t, "testdata/*.star", newRegistry, interp.Options{})
}

// TestDocs checks what `ovnrun doc` prints for this domain: a signature that
// is a call of the builtin's own name, and a real paragraph of text.
func TestDocs(t *testing.T) {
	r, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range r.All() {
		if b.Domain != "virt" {
			continue
		}
		names = append(names, b.Name)
		if len(strings.Fields(b.Doc)) < 30 {
			t.Errorf("%s: doc has fewer than 30 words: %q", b.Name, b.Doc)
		}
		sig := strings.NewReplacer("=,", "=None,", "=)", "=None)").Replace(b.Signature)
		e, err := syntax.ParseExpr("sig", sig, 0)
		if err != nil {
			t.Errorf("%s: signature %q does not parse: %v", b.Name, b.Signature, err)
			continue
		}
		if call, ok := e.(*syntax.CallExpr); !ok || call.Fn.(*syntax.Ident).Name != b.Name {
			t.Errorf("%s: signature %q is not a call of %s", b.Name, b.Signature, b.Name)
		}
	}
	if got := strings.Join(names, ","); got != "attach,vm" {
		t.Errorf("virt builtins = %s, want attach,vm", got)
	}
}

var (
	_ interp.Action = (*Domain)(nil)
	_ interp.Action = (*Interface)(nil)
)

// TestAttachResolvesLaterPort checks the NIC of a port attached by name
// before the port is declared: after evaluation it carries the port's MAC and
// depends on it.
func TestAttachResolvesLaterPort(t *testing.T) {
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	src := `
v0 = vm("v0", host = host("h0", address = "177.1.1.1"), image = "/img.qcow2")
attach(v0, "late")
test_port("late", mac = "02:00:00:00:00:07")
`
	plan, err := interp.Evaluate("late.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := plan.Action("vm_nic/h0/late")
	if !ok {
		t.Fatal("no vm_nic/h0/late in the plan")
	}
	nic := a.(*Interface)
	if got := nic.MAC.String(); got != "02:00:00:00:00:07" {
		t.Errorf("NIC MAC %q, want the port's 02:00:00:00:00:07", got)
	}
	if got := strings.Join(nic.M.DependsOn, ","); !strings.Contains(got, "test_port/late") {
		t.Errorf("NIC depends on %s, want test_port/late among them", got)
	}
}
