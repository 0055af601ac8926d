package check

import (
	"slices"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

const tcpDoc = `Checks a TCP port by connecting from a VM, and says how the connections ended: answered, refused
(a TCP reset, as from a closed port or an ACL with action reject) or timed out (no answer at all, as
when an ACL drops the packets). src is a VM handle: the connections run inside its guest with busybox
nc, as do the listeners. dst is a VM, an IP address string, a logical switch port or a host, as for ping(). port is 1 to
65535. For the check to be real something must listen: when dst is a VM, the check starts a
short-lived server on port inside it that answers each connection with the VM's label (h0/v1); backends=, a
list of VMs for a load balancer's VIP as dst, starts one in each backend instead. Without either,
whatever already listens at dst answers. The servers are stopped when the check ends, pass or fail.
count connections are made (default 1; say 30 to see a load balancer spread them), each waiting up to
timeout_s seconds (default 10). expect="success" (the default) passes when every connection is
answered and, with backends=, every backend answered at least once; the result shows the spread
("30/30 connected; h0/v1 11, h0/v2 9, h0/v3 10"); a round that falls short (refused while a lease
is pending) is made again until timeout_s has passed since the check began. expect="refused"
passes when every connection is reset, expect="timeout" when every one times out, and
expect="failure" when none connects, whichever way: one round each. The VMs need busybox (the
guest kit has it). The plan shows the VMs that listen, with the ID tcp/<src>-><dst>:<port>.`

// tcpExpects are the outcomes tcp() can expect, as its error lists them.
var tcpExpects = []string{"success", "refused", "timeout", "failure"}

func tcpBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		srcv, dstv starlark.Value
		port       int
		count      = 1
		timeout    = 10
		expect     = "success"
		backendsv  *starlark.List
	)
	if err := c.Unpack(3, "src", &srcv, "dst", &dstv, "port", &port, "expect?", &expect, "count?", &count,
		"backends?", &backendsv, "timeout_s?", &timeout); err != nil {
		return nil, err
	}
	switch {
	case port < 1 || port > 65535:
		return nil, c.Errorf("port %d is out of range 1..65535", port)
	case count < 1 || count > 1000:
		return nil, c.Errorf("count %d is out of range 1..1000", count)
	case timeout < 1 || timeout > 3600:
		return nil, c.Errorf("timeout_s %d is out of range 1..3600", timeout)
	case !slices.Contains(tcpExpects, expect):
		return nil, c.Errorf("expect %q: want success, refused, timeout or failure", expect)
	}
	srcVM, ok := srcv.(interp.Guest)
	if !ok {
		return nil, c.Errorf("for parameter src: got %s, want vm (the connections run inside its guest)", srcv.Type())
	}
	src := vmRef(srcVM)
	dst, err := resolveTarget(c, dstv)
	if err != nil {
		return nil, err
	}
	listeners, listenerIDs, err := tcpListeners(c, dstv, backendsv)
	if err != nil {
		return nil, err
	}
	name := src.Label + " -> " + dst.label + ":" + strconv.Itoa(port)
	a := &TCP{Src: src.Label, Guest: src.VM, Dst: dst.addr, Port: port, Count: count, TimeoutS: timeout,
		Expect: expect, Listeners: listeners}
	a.M = interp.Meta{Kind: "tcp", Name: name, Mode: interp.Command, Driver: "check", Host: src.Host,
		ID: checkID(c, "tcp", src.Label+"->"+dst.label+":"+strconv.Itoa(port))}
	for _, d := range append([]string{srcVM.GuestID(), dst.dep}, listenerIDs...) {
		if d != "" && !slices.Contains(a.M.DependsOn, d) {
			a.M.DependsOn = append(a.M.DependsOn, d)
		}
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// vmRef names the VM g.
func vmRef(g interp.Guest) VMRef {
	h := g.GuestHost().Name
	return VMRef{Label: h + "/" + g.GuestName(), Host: h, VM: g.GuestName()}
}

// tcpListeners are the VMs that serve the port during the check, and the
// IDs of the actions declaring them: the backends, or else dst when it is
// a VM.
func tcpListeners(c *interp.Call, dstv starlark.Value, backends *starlark.List) ([]VMRef, []string, error) {
	dstVM, dstIsVM := dstv.(interp.Guest)
	if backends == nil {
		if dstIsVM {
			return []VMRef{vmRef(dstVM)}, []string{dstVM.GuestID()}, nil
		}
		return nil, nil, nil
	}
	if dstIsVM {
		return nil, nil, c.Errorf("backends: dst is VM %s, which serves the port itself; backends= is for an address VMs serve behind, such as a load balancer's VIP",
			vmRef(dstVM).Label)
	}
	if backends.Len() == 0 {
		return nil, nil, c.Errorf("backends: want at least one VM")
	}
	var (
		out []VMRef
		ids []string
	)
	for i := 0; i < backends.Len(); i++ {
		g, ok := backends.Index(i).(interp.Guest)
		if !ok {
			return nil, nil, c.Errorf("backends[%d]: got %s, want vm", i, backends.Index(i).Type())
		}
		if slices.Contains(ids, g.GuestID()) {
			return nil, nil, c.Errorf("backends[%d]: VM %s is listed twice", i, vmRef(g).Label)
		}
		out = append(out, vmRef(g))
		ids = append(ids, g.GuestID())
	}
	return out, ids, nil
}
