package interp

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// Host is a machine a runbook configures: a hypervisor, the central node or
// an outside test host. It lives in interp, not in the host domain, because
// every domain refers to hosts (VMs run on one, a gateway chassis is one).
// The host() builtin that creates it belongs to builtins/host.
type Host struct {
	Name    string
	Address string // DNS name or IP address; empty for a local host
	User    string
	Port    int
	Local   bool
	// SystemID is the host's OVN chassis name (Open_vSwitch
	// external_ids:system-id). Empty means it is read from the host at apply
	// time.
	SystemID     string
	IdentityFile string
	// DefaultUser and DefaultPort say that User and Port are host()'s
	// defaults (root, 22), given by neither the runbook nor the inventory:
	// an ssh_config's User and Port for the address then take their place.
	DefaultUser, DefaultPort bool
	// Become runs the host's commands as root through sudo when the login
	// user is not root; BecomePasswordEnv names the environment variable
	// holding sudo's password (never the password itself).
	Become            bool
	BecomePasswordEnv string
	Pos               Pos
	// Via says where Address, Port, User and Local come from when not from
	// the runbook's host() (such as "inventory lab.json"), and Declared
	// what host() said instead; the plan shows both.
	Via, Declared string
}

var (
	_ starlark.Value    = (*Host)(nil)
	_ starlark.HasAttrs = (*Host)(nil)
)

// ID is the host's identity in plans and action IDs.
func (h *Host) ID() string { return "host/" + h.Name }

// Chassis returns the chassis name: a string when declared, else a future.
func (h *Host) Chassis() starlark.Value {
	if h.SystemID != "" {
		return starlark.String(h.SystemID)
	}
	return NewFuture(h.ID(), "system_id")
}

// ChassisField is Chassis in the form a plan field holds.
func (h *Host) ChassisField() any {
	if h.SystemID != "" {
		return h.SystemID
	}
	return NewFuture(h.ID(), "system_id")
}

func (h *Host) String() string        { return fmt.Sprintf("host(%q)", h.Name) }
func (h *Host) Type() string          { return "host" }
func (h *Host) Freeze()               {}
func (h *Host) Truth() starlark.Bool  { return starlark.True }
func (h *Host) Hash() (uint32, error) { return starlark.String(h.Name).Hash() }

var hostAttrs = []string{"address", "chassis", "local", "name", "port", "system_id", "user"}

// AttrNames implements starlark.HasAttrs.
func (h *Host) AttrNames() []string { return hostAttrs }

// Attr implements starlark.HasAttrs.
func (h *Host) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(h.Name), nil
	case "address":
		return starlark.String(h.Address), nil
	case "user":
		return starlark.String(h.User), nil
	case "port":
		return starlark.MakeInt(h.Port), nil
	case "local":
		return starlark.Bool(h.Local), nil
	case "system_id", "chassis":
		return h.Chassis(), nil
	}
	return nil, nil
}

// Hosts returns the declared hosts sorted by name.
func (p *Plan) HostList() []*Host {
	hs := make([]*Host, 0, len(p.Hosts))
	for _, h := range p.Hosts {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	return hs
}
