package interp

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// This file holds the checks for what a runbook names on a machine: the host
// itself, its network interfaces, its address and the OVSDB remotes it
// serves or connects to. Several domains take these arguments, so the
// checks and their messages live here once.

// HostArg resolves the argument v of parameter param to a host: v is a host
// handle or the name of a host declared earlier.
func (c *Call) HostArg(param string, v starlark.Value) (*Host, error) {
	switch v := v.(type) {
	case *Host:
		return v, nil
	case starlark.String:
		h, ok := c.Ev.Plan().Hosts[string(v)]
		if !ok {
			return nil, c.Errorf("%s: no host %q is declared", param, string(v))
		}
		return h, nil
	}
	return nil, c.Errorf("for parameter %s: got %s, want host or host name", param, v.Type())
}

// IfName is an Unpacker for a Linux network interface name, which OVS bridge
// and port names and a VM NIC's target dev also are; see CheckIfName.
type IfName string

// Unpack implements starlark.Unpacker.
func (n *IfName) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want interface name string", v.Type())
	}
	if err := CheckIfName(s); err != nil {
		return err
	}
	*n = IfName(s)
	return nil
}

// CheckIfName validates a Linux interface name as the kernel takes it
// (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':', whitespace
// or control characters.
func CheckIfName(s string) error {
	switch {
	case s == "" || len(s) > 15:
		return fmt.Errorf("invalid interface name %q: want 1 to 15 bytes", s)
	case s == "." || s == "..":
		return fmt.Errorf("invalid interface name %q", s)
	case strings.ContainsAny(s, "/:") || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Errorf("invalid interface name %q: no '/', ':', whitespace or control characters", s)
	}
	return nil
}
