package startest

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// RegisterTestPort adds test_port(name, mac=, ipv4=) to r: a stand-in for an
// OVN logical switch port, so the tests of domains that take ports do not
// depend on builtins/ovn. ipv4 "dynamic" makes a future, as a port with a
// dynamic address has; any other text is returned unchecked, to test what the
// builtin under test makes of it. The port is declared, so it can also be
// referred to by name.
func RegisterTestPort(r *interp.Registry) error {
	return r.Register(interp.Builtin{Name: "test_port", Signature: "test_port(name, mac=, ipv4=)",
		Domain: "test", Doc: "A logical port stand-in for tests.", Fn: testPortBuiltin})
}

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
