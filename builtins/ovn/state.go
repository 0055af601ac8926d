package ovn

import (
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// state is what the OVN domain remembers during one evaluation: the handles
// declared so far, by name, so later builtins can take a name as well as a
// handle.
type state struct {
	switches    map[string]*Switch
	ports       map[string]*Port
	routers     map[string]*Router
	routerPorts map[string]*RouterPort
	// portGroups and addressSets are the Port_Group and Address_Set rows
	// declared so far, which matches may name (@pg, $as).
	portGroups  map[string]*Row
	addressSets map[string]*Row
	// switchAddrs are, per switch, the MACs and static IPs of its ports and
	// the port that has each; gatewayPorts the router ports with a gateway
	// chassis (lint.go).
	switchAddrs  map[string]map[string]string
	gatewayPorts map[string]bool
	// routes are the first static route declared to each destination
	// (router, route table, policy, prefix): a second needs ecmp=True.
	routes map[string]*Row
}

func stateOf(c *interp.Call) *state {
	return c.Ev.Domain("ovn", func() any {
		return &state{
			switches:     map[string]*Switch{},
			ports:        map[string]*Port{},
			routers:      map[string]*Router{},
			routerPorts:  map[string]*RouterPort{},
			portGroups:   map[string]*Row{},
			addressSets:  map[string]*Row{},
			switchAddrs:  map[string]map[string]string{},
			gatewayPorts: map[string]bool{},
			routes:       map[string]*Row{},
		}
	}).(*state)
}

// ref resolves v, a handle of type H or the name of one, from byName.
func ref[H starlark.Value](c *interp.Call, param, what string, v starlark.Value, byName map[string]H) (H, error) {
	var zero H
	if h, ok := v.(H); ok {
		return h, nil
	}
	name, ok := starlark.AsString(v)
	if !ok {
		return zero, c.Errorf("%s: got %s, want %s or its name", param, v.Type(), what)
	}
	h, ok := byName[name]
	if !ok {
		return zero, c.Errorf("%s: no %s %q is declared (declare it before referring to it)", param, what, name)
	}
	return h, nil
}

func (s *state) switchRef(c *interp.Call, param string, v starlark.Value) (*Switch, error) {
	return ref(c, param, "logical switch", v, s.switches)
}

func (s *state) portRef(c *interp.Call, param string, v starlark.Value) (*Port, error) {
	return ref(c, param, "logical switch port", v, s.ports)
}

func (s *state) routerRef(c *interp.Call, param string, v starlark.Value) (*Router, error) {
	return ref(c, param, "logical router", v, s.routers)
}

func (s *state) routerPortRef(c *interp.Call, param string, v starlark.Value) (*RouterPort, error) {
	return ref(c, param, "logical router port", v, s.routerPorts)
}

// portNameTaken reports whether name is used by a switch port or router
// port: NB indexes both by name, and OVN port names share one namespace in
// the southbound Port_Binding table.
func (s *state) portNameTaken(name string) (interp.Pos, bool) {
	if p, ok := s.ports[name]; ok {
		return p.a.M.Pos(), true
	}
	if p, ok := s.routerPorts[name]; ok {
		return p.a.M.Pos(), true
	}
	return interp.Pos{}, false
}

// chassisValue turns a host (handle or name) or a chassis name into the value of a
// chassis column: a string, or a future when the host's chassis name is read
// at apply time.
func chassisValue(c *interp.Call, param string, v starlark.Value) (any, string, error) {
	switch v := v.(type) {
	case *interp.Host:
		if v.SystemID != "" {
			return v.SystemID, v.SystemID, nil
		}
		return v.ChassisField(), v.Name, nil
	case starlark.String:
		if h, ok := c.Ev.Plan().Hosts[string(v)]; ok {
			return chassisValue(c, param, h)
		}
		if err := interp.CheckName(string(v)); err != nil {
			return nil, "", c.Errorf("%s: %v", param, err)
		}
		return string(v), string(v), nil
	}
	return nil, "", c.Errorf("%s: got %s, want a host or a chassis name", param, v.Type())
}
