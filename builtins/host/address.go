package host

import (
	"context"
	"net/netip"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// ip_address(): an address on a host's interface, such as the seed's outside
// host's 172.16.3.253/24, without which its route via the gateway port has
// no next hop. The builtin and its action are here with the host driver's
// part, which compares and applies with iproute2.

// IPAddress is an address on one of a host's interfaces.
type IPAddress struct {
	interp.ActionMeta
	Addr interp.IfAddr
	Dev  string
}

// Fields implements interp.Action.
func (a *IPAddress) Fields() []interp.Field {
	return []interp.Field{interp.F("address", a.Addr), interp.F("dev", a.Dev)}
}

func ipAddressBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv   starlark.Value
		addr interp.IfAddr
		dev  interp.IfName
	)
	if err := c.Unpack(2, "host", &hv, "address", &addr, "dev", &dev); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	a := &IPAddress{Addr: addr, Dev: string(dev)}
	a.M = interp.Meta{Kind: "ip_address", Name: h.Name + "/" + string(dev) + "/" + addr.String(), Driver: "host", Host: h.Name}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// hasAddress reports whether dev holds a's address with a's prefix length;
// missing is true when there is no such device (yet).
func (h *hostState) hasAddress(ctx context.Context, a *IPAddress) (has, missing bool, err error) {
	r, err := h.run(ctx, remote.Argv("ip", "-o", "addr", "show", "dev", a.Dev).WithTimeout(checkTimeout))
	if err != nil {
		return false, false, err
	}
	if r.Status != 0 {
		if strings.Contains(r.Stderr, "does not exist") {
			return false, true, nil
		}
		return false, false, r.Err()
	}
	// "3: ens3f1np1    inet 172.16.3.253/24 brd 172.16.3.255 scope global ens3f1np1\ ..."
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[2] != "inet" && f[2] != "inet6") {
			continue
		}
		if p, err := netip.ParsePrefix(f[3]); err == nil && p == a.Addr.Prefix {
			return true, false, nil
		}
	}
	return false, false, nil
}

func (d *HostDriver) planAddress(ctx context.Context, h *hostState, a *IPAddress) (interp.Change, error) {
	has, missing, err := h.hasAddress(ctx, a)
	switch {
	case err != nil:
		return interp.Change{}, err
	case has:
		return interp.Change{Action: a, Op: interp.OpUnchanged}, nil
	case missing:
		return interp.Change{Action: a, Op: interp.OpCreate, Note: "device " + a.Dev + " does not exist yet"}, nil
	}
	return interp.Change{Action: a, Op: interp.OpCreate}, nil
}

// applyAddress adds the address; other addresses of the device are left
// alone, as with `ip addr add`, but applying twice changes nothing.
func (d *HostDriver) applyAddress(ctx context.Context, h *hostState, a *IPAddress) (interp.Op, error) {
	has, _, err := h.hasAddress(ctx, a)
	switch {
	case err != nil:
		return "", err
	case has:
		return interp.OpUnchanged, nil
	}
	if _, err = h.output(ctx, remote.Argv("ip", "addr", "replace", a.Addr.String(), "dev", a.Dev).WithTimeout(checkTimeout)); err != nil {
		return "", err
	}
	return interp.OpCreate, h.record(ctx, recAddress, a.Dev+" "+a.Addr.String(), created)
}
