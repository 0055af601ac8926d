package virt

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

// testPort stands in for an OVN logical switch port, so these tests do not
// depend on builtins/ovn.
type testPort struct {
	id, name string
	mac      interp.MAC
	ipv4     starlark.Value
}

var _ interp.LogicalPort = (*testPort)(nil)

func (p *testPort) String() string           { return fmt.Sprintf("test_port(%q)", p.name) }
func (p *testPort) Type() string             { return "test_port" }
func (p *testPort) Freeze()                  {}
func (p *testPort) Truth() starlark.Bool     { return starlark.True }
func (p *testPort) Hash() (uint32, error)    { return starlark.String(p.id).Hash() }
func (p *testPort) PortID() string           { return p.id }
func (p *testPort) PortName() string         { return p.name }
func (p *testPort) PortMAC() interp.MAC      { return p.mac }
func (p *testPort) PortIPv4() starlark.Value { return p.ipv4 }

type testPortAction struct{ interp.ActionMeta }

func (*testPortAction) Fields() []interp.Field { return nil }

// testPortBuiltin is test_port(name, mac=, ipv4=): ipv4 "dynamic" makes a
// future, as a port with a dynamic address has.
func testPortBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name interp.Name
		mac  interp.MAC
		ipv4 string
	)
	if err := c.Unpack(1, "name", &name, "mac?", &mac, "ipv4?", &ipv4); err != nil {
		return nil, err
	}
	a := &testPortAction{}
	a.M = interp.Meta{Kind: "test_port", Name: string(name), Driver: "nb"}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	p := &testPort{id: a.M.ID, name: string(name), mac: mac, ipv4: starlark.None}
	switch ipv4 {
	case "":
	case "dynamic":
		p.ipv4 = interp.NewFuture(a.M.ID, "ipv4")
	default:
		p.ipv4 = starlark.String(ipv4)
	}
	c.Ev.DeclarePort(p)
	return p, nil
}

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	if err := host.Register(r); err != nil {
		return nil, err
	}
	if err := Register(r); err != nil {
		return nil, err
	}
	return r, r.Register(interp.Builtin{Name: "test_port", Signature: "test_port(name, mac=, ipv4=)",
		Domain: "test", Doc: "A logical port stand-in for tests.", Fn: testPortBuiltin})
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
