package check

import (
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// source is where a ping runs.
type source struct {
	label string // "h0" or "h0/v0"
	host  *interp.Host
	guest string // VM name, "" for the host itself
	dep   string // action to apply first, "" if none
}

// target is what a ping aims at.
type target struct {
	label string
	addr  any // interp.IP, string (DNS name) or *interp.Future
	dep   string
}

func resolveSource(c *interp.Call, v starlark.Value) (source, error) {
	switch v := v.(type) {
	case interp.Guest:
		h := v.GuestHost()
		return source{label: h.Name + "/" + v.GuestName(), host: h, guest: v.GuestName(), dep: v.GuestID()}, nil
	case *interp.Host, starlark.String:
		h, err := c.HostArg("src", v)
		if err != nil {
			return source{}, err
		}
		return source{label: h.Name, host: h}, nil
	}
	return source{}, c.Errorf("for parameter src: got %s, want vm, host or host name", v.Type())
}

func resolveTarget(c *interp.Call, v starlark.Value) (target, error) {
	switch v := v.(type) {
	case interp.LogicalPort:
		return portTarget(c, v)
	case interp.Guest:
		// A VM's address is what its guest reports once it runs.
		return target{label: v.GuestHost().Name + "/" + v.GuestName(), addr: interp.NewFuture(v.GuestID(), "ipv4"), dep: v.GuestID()}, nil
	case *interp.Host:
		if v.Address == "" {
			return target{}, c.Errorf("dst: host %q is local and has no address to ping; ping one of its IP addresses", v.Name)
		}
		if ip, err := interp.ParseIP(v.Address); err == nil {
			return target{label: v.Name, addr: ip}, nil
		}
		return target{label: v.Name, addr: v.Address}, nil
	case starlark.String:
		ip, err := interp.ParseIP(string(v))
		if err != nil {
			if _, isHost := c.Ev.Plan().Hosts[string(v)]; isHost {
				return target{}, c.Errorf("dst: %v (to ping host %q, pass its handle)", err, string(v))
			}
			return target{}, c.Errorf("dst: %v", err)
		}
		return target{label: ip.String(), addr: ip}, nil
	}
	return target{}, c.Errorf("for parameter dst: got %s, want IP address, logical switch port, host or vm", v.Type())
}

func portTarget(c *interp.Call, p interp.LogicalPort) (target, error) {
	t := target{label: p.PortName(), dep: p.PortID()}
	switch a := p.PortIPv4().(type) {
	case *interp.Future:
		t.addr = a
	case starlark.String:
		ip, err := interp.ParseIP(string(a))
		if err != nil || !ip.Is4() {
			return target{}, c.Errorf("dst: logical port %q has IPv4 address %q, which is not one", p.PortName(), string(a))
		}
		t.addr = ip
	case starlark.NoneType:
		return target{}, c.Errorf("dst: logical port %q has no IPv4 address (static or dynamic) to ping", p.PortName())
	default:
		return target{}, c.Errorf("dst: logical port %q reports an IPv4 address of type %s", p.PortName(), a.Type())
	}
	return t, nil
}
