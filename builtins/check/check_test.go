package check

import (
	"strings"
	"testing"

	"go.starlark.net/syntax"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	for _, reg := range []func(*interp.Registry) error{host.Register, virt.Register, Register, startest.RegisterTestPort} {
		if err := reg(r); err != nil {
			return nil, err
		}
	}
	return r, nil
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
		if b.Domain != "check" {
			continue
		}
		names = append(names, b.Name)
		if len(strings.Fields(b.Doc)) < 30 {
			t.Errorf("%s: doc has fewer than 30 words: %q", b.Name, b.Doc)
		}
		e, err := syntax.ParseExpr("sig", b.Signature, 0)
		if err != nil {
			t.Errorf("%s: signature %q does not parse: %v", b.Name, b.Signature, err)
			continue
		}
		if call, ok := e.(*syntax.CallExpr); !ok || call.Fn.(*syntax.Ident).Name != b.Name {
			t.Errorf("%s: signature %q is not a call of %s", b.Name, b.Signature, b.Name)
		}
	}
	if got := strings.Join(names, ","); got != "exec,fault,outage,ping,ping_watch,tcp,trace" {
		t.Errorf("check builtins = %s, want exec,fault,outage,ping,ping_watch,tcp,trace", got)
	}
}

// TestPlanText renders a plan with a ping to a dynamic address: the
// address is shown as known after apply and the ping as a command to run.
func TestPlanText(t *testing.T) {
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	src := `h0 = host("h0", address = "177.1.1.1")
v0 = vm("v0", host = h0, image = "/img.qcow2")
ping(v0, test_port("h1_v1_vnet2", ipv4 = "dynamic"))
`
	p, err := interp.Evaluate("lab.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := interp.WriteText(&b, p, interp.OfflineChanges(p.Steps)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"> ping h0/v0 -> h1_v1_vnet2  (lab.star:3:5)",
		"dst: (known after apply)",
		`expect: "success"`,
		"1 command(s) will run.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
	a, ok := p.Action("ping/h0/v0->h1_v1_vnet2")
	if !ok {
		t.Fatal("no ping action")
	}
	if got := a.(*Ping).Guest; got != "v0" {
		t.Errorf("Guest = %q, want v0", got)
	}
}

var _ interp.Action = (*Ping)(nil)
