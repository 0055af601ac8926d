package host

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Bridge is the handle bridge() returns: an OVS bridge on one host. It can be
// passed to bridge_mappings() in place of the bridge's name.
type Bridge struct {
	Name  string
	Host  *interp.Host
	Ports []string
	ID    string // the ovs_bridge action that declares it
}

var (
	_ starlark.Value    = (*Bridge)(nil)
	_ starlark.HasAttrs = (*Bridge)(nil)
)

func (b *Bridge) String() string        { return fmt.Sprintf("bridge(%q, host=%q)", b.Name, b.Host.Name) }
func (b *Bridge) Type() string          { return "bridge" }
func (b *Bridge) Freeze()               {}
func (b *Bridge) Truth() starlark.Bool  { return starlark.True }
func (b *Bridge) Hash() (uint32, error) { return starlark.String(b.ID).Hash() }

// AttrNames implements starlark.HasAttrs.
func (b *Bridge) AttrNames() []string { return []string{"host", "name", "ports"} }

// Attr implements starlark.HasAttrs.
func (b *Bridge) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(b.Name), nil
	case "host":
		return b.Host, nil
	case "ports":
		return stringList(b.Ports), nil
	}
	return nil, nil
}

func stringList(ss []string) *starlark.List {
	l := make([]starlark.Value, len(ss))
	for i, s := range ss {
		l[i] = starlark.String(s)
	}
	return starlark.NewList(l)
}

// label is an Unpacker for names that become part of action IDs (hosts,
// commands): letters, digits, '.', '_' and '-', so an ID such as
// "sh/h0/install-libvirt" splits unambiguously at its slashes.
type label string

func (l *label) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	if err := checkLabel(s); err != nil {
		return err
	}
	*l = label(s)
	return nil
}

func checkLabel(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("name %q must be 1 to 64 characters long", s)
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("._-", r) {
			return fmt.Errorf("name %q: only letters, digits, '.', '_' and '-' are allowed", s)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// address is an Unpacker for a host address: an IP address or a DNS name.
type address string

func (a *address) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want IP address or host name", v.Type())
	}
	if err := interp.CheckAddress(s); err != nil {
		return err
	}
	*a = address(s)
	return nil
}

// tcpPort is an Unpacker for a TCP port number, 1 to 65535.
type tcpPort int

func (p *tcpPort) Unpack(v starlark.Value) error {
	n, err := starlark.AsInt32(v)
	if err != nil {
		return fmt.Errorf("got %s, want port number", v.Type())
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %d is out of range 1..65535", n)
	}
	*p = tcpPort(n)
	return nil
}

// path is an Unpacker for an absolute file path.
type path string

func (p *path) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want path string", v.Type())
	}
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("path %q is not absolute", s)
	}
	if strings.ContainsAny(s, "\x00\n") {
		return fmt.Errorf("path %q contains a NUL or newline", s)
	}
	*p = path(s)
	return nil
}
