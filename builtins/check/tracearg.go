package check

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// How ovnrun trace's SRC and DST name a place of the runbook's plan.

// GuestNIC is implemented by the actions that give a VM a NIC on a logical
// switch port (the virt domain's attach()): the VM's name and the port's
// iface-id.
type GuestNIC interface {
	GuestNIC() (vm, ifaceID string)
}

// TraceArg resolves SRC or DST: a logical switch port, a VM, or an address
// (a port's static one, for SRC).
func TraceArg(plan *interp.Plan, ev *interp.Eval, arg string, isDst bool) (TraceEnd, error) {
	what := "SRC"
	if isDst {
		what = "DST"
	}
	if p, ok := ev.Port(arg); ok {
		return TraceEnd{Label: arg, Port: p}, nil
	}
	if ip, err := interp.ParseIP(arg); err == nil {
		if isDst {
			return TraceEnd{Label: arg, IP: ip}, nil
		}
		for _, a := range planActions(plan, "logical_switch_port") {
			if p, ok := ev.Port(a.Meta().Name); ok && starlarkString(p.PortIPv4()) == ip.String() {
				return TraceEnd{Label: p.PortName(), Port: p}, nil
			}
		}
		return TraceEnd{}, fmt.Errorf("SRC %s: no logical switch port of the runbook has this static address; name the port or its VM", arg)
	}
	if _, isHost := plan.Hosts[arg]; isHost {
		return TraceEnd{}, fmt.Errorf("%s %s is a host: give one of its addresses", what, arg)
	}
	vm, err := findVM(plan, arg)
	if err != nil {
		return TraceEnd{}, fmt.Errorf("%s %s: %w", what, arg, err)
	}
	for _, a := range planActions(plan, "vm_nic") {
		nic, ok := a.(GuestNIC)
		if !ok {
			continue
		}
		name, ifaceID := nic.GuestNIC()
		if a.Meta().Host+"/"+name != vm {
			continue
		}
		if p, ok := ev.Port(ifaceID); ok && p.PortIPv4() != starlark.None {
			return TraceEnd{Label: vm, Port: p}, nil
		}
	}
	return TraceEnd{}, fmt.Errorf("%s %s: the VM has no NIC on a logical switch port with an IPv4 address", what, arg)
}

func starlarkString(v starlark.Value) string {
	s, _ := starlark.AsString(v)
	return s
}

// findVM returns "HOST/VM" for a VM named as such, or by its name alone
// when one host has a VM of that name.
func findVM(plan *interp.Plan, arg string) (string, error) {
	var found []string
	for _, a := range planActions(plan, "vm") {
		name := a.Meta().Name
		if name == arg || strings.HasSuffix(name, "/"+arg) {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", errors.New("the runbook declares no logical switch port or VM of that name")
	}
	return "", fmt.Errorf("several hosts have a VM of that name (%s): say which", strings.Join(found, ", "))
}

// planActions lists the plan's actions of a kind, in declaration order.
func planActions(plan *interp.Plan, kind string) []interp.Action {
	var out []interp.Action
	for _, s := range plan.Steps {
		for _, a := range s.Actions {
			if a.Meta().Kind == kind {
				out = append(out, a)
			}
		}
	}
	return out
}
