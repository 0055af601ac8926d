package check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// defaultWait bounds, unless a ping says otherwise (wait_s), how long a
// check waits for the destination's port to be up and for its VM to have
// an address, before its own timeout_s starts. A lab of many hypervisors on
// a small machine binds its ports and gives its VMs their DHCP leases over
// tens of seconds (minutes at 128); a check must not spend its timeout on
// that, nor wait forever for a port that is never bound.
const defaultWait = defaultWaitS * time.Second

// defaultWaitS is defaultWait in ping's wait_s.
const defaultWaitS = 120

// waitAddress waits until the VM has a global address of dst's family (an
// IPv4 one when dst is a name), as its DHCP lease or its own configuration
// gives it, and returns how long that took. Before that, every packet it
// sends fails with "Network is unreachable".
func (d *Driver) waitAddress(ctx context.Context, host, vm, dst string, limit time.Duration) (time.Duration, error) {
	family := "-4"
	if a, err := netip.ParseAddr(dst); err == nil && a.Is6() && !a.Is4In6() {
		family = "-6"
	}
	start := time.Now()
	for {
		ok, err := d.hasAddress(ctx, host, vm, family)
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("%s/%s has no global %s address after %s: has its DHCP lease come (is its port bound to a chassis, its switch given DHCP options)?",
				host, vm, map[string]string{"-4": "IPv4", "-6": "IPv6"}[family], limit)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// GuestAddresser is implemented by guest runners that can list a VM's
// usable global addresses without running a command in it (the lab's
// namespace VMs): a check polls them ten times a second while it waits
// for a lease, with every host's checks at once.
type GuestAddresser interface {
	GuestAddresses(ctx context.Context, host, vm string) ([]netip.Addr, error)
}

// hasAddress reports whether the VM has a usable global address of the
// family ("-4" or "-6"), through GuestAddresser where the guests offer it,
// else by running `ip -o addr` in the VM.
func (d *Driver) hasAddress(ctx context.Context, host, vm, family string) (bool, error) {
	if ga, ok := d.guests.(GuestAddresser); ok {
		addrs, err := ga.GuestAddresses(ctx, host, vm)
		if err != nil {
			return false, err
		}
		for _, a := range addrs {
			if a.Is4() == (family == "-4") {
				return true, nil
			}
		}
		return false, nil
	}
	r, err := d.guests.GuestExec(ctx, host, vm, []string{"ip", "-o", family, "addr", "show", "scope", "global"})
	if err != nil {
		return false, err
	}
	return r.Status == 0 && hasUsableAddress(r.Stdout), nil
}

// hasUsableAddress reports whether `ip -o addr show` printed an address
// that is not still tentative (IPv6 duplicate address detection).
func hasUsableAddress(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " inet") && !strings.Contains(line, "tentative") {
			return true
		}
	}
	return false
}

// waitPortUp waits, when dst is a logical switch port's address, until the
// port is up (its NB up column: a chassis has bound it and installed its
// flows), at most limit: the NB driver waits until the context's deadline.
// Where no driver can tell (a test's outputs, or the address already known
// from an earlier run's journal) there is nothing to wait for.
func waitPortUp(ctx context.Context, dst any, limit time.Duration) error {
	f, ok := dst.(*interp.Future)
	if !ok || !strings.HasPrefix(f.From, "logical_switch_port/") {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	_, err := interp.Resolve(ctx, interp.NewFuture(f.From, "up"))
	var unresolved *interp.UnresolvedError
	if errors.As(err, &unresolved) {
		return nil
	}
	return err
}
