// Package check is the verification domain of ovnrun: the Starlark face of
// the checks a lab runs once it is built, such as pinging across the
// logical topology or tracing a packet's path with ovn-trace. Checks are
// command actions: they run on every apply and fail the run when the
// network does not behave as the runbook expects. Builtins only validate
// arguments and append typed actions; the driver (checkdriver.go,
// tracedriver.go) runs them on hosts and in VMs through other drivers.
//
// The builtins import only interp and go.starlark.net; the driver also
// internal/remote.
package check

import (
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Register adds the check domain's builtins to r.
func Register(r *interp.Registry) error {
	return r.RegisterAll(
		interp.Builtin{Name: "ping", Signature: `ping(src, dst, count=3, timeout_s=10, expect="success", max_loss=0, wait_s=120)`,
			Domain: "check", Doc: pingDoc, Fn: pingBuiltin},
		interp.Builtin{Name: "tcp", Signature: `tcp(src, dst, port, expect="success", count=1, backends=[], timeout_s=10)`,
			Domain: "check", Doc: tcpDoc, Fn: tcpBuiltin},
		interp.Builtin{Name: "trace", Signature: `trace(src, dst, protocol="icmp", dst_port=80, central=None, handled_on=None, settle_s=0)`,
			Domain: "check", Doc: traceDoc, Fn: traceBuiltin},
		interp.Builtin{Name: "exec", Signature: `exec(vm, argv, expect_status=0, stdout_contains="", timeout_s=30)`,
			Domain: "check", Doc: execDoc, Fn: execBuiltin},
		interp.Builtin{Name: "fault", Signature: `fault(host, kind, service="", dev="", process="", delay_ms=0, loss_pct=0)`,
			Domain: "check", Doc: faultDoc, Fn: faultBuiltin},
		interp.Builtin{Name: "ping_watch", Signature: `ping_watch(src, dst, interval_ms=100, timeout_s=10)`,
			Domain: "check", Doc: pingWatchDoc, Fn: pingWatchBuiltin},
		interp.Builtin{Name: "outage", Signature: `outage(watch, max_outage_s)`,
			Domain: "check", Doc: outageDoc, Fn: outageBuiltin},
	)
}

const pingDoc = `Checks reachability by running ping from src to dst, as the seed does from a VM to the outside
host (ping 172.16.3.253) and back (ping 172.16.2.2). src is a VM handle (the ping runs inside the
guest, through its QEMU guest agent when it runs one, as stock images with qemu-guest-agent do, else
through ovnrun's own channel), or a host handle or name (it runs on the host). dst is an IP address string, a logical switch
port (its IPv4 address; a dynamic address is resolved at apply time and shown as (known after apply)),
a host (its address) or a VM (the address its guest reports). From a VM, the check first waits (up to
wait_s seconds, default 120) for the VM to have a global address of dst's family (its DHCP lease); to
a switch port, as long for the port to be up (a lab of 128 hypervisors on two cores binds its ports
over minutes). expect="success" (the default) then waits for one reply, pinging again for up to
timeout_s seconds (default 10) while ARP finds a path; in a run with an NB, it then waits (up to
timeout_s more) until every chassis has installed its flows, as ovn-nbctl --wait=hv sync does; then
count echo requests (default 3) are sent, and the check passes when no more than max_loss percent of
them (default 0: every one must answer; 0..100) go unanswered. Its result shows them: "3 sent, 3
received, 0% loss, rtt avg 0.61 ms". expect="failure" passes when none of count requests gets a reply,
to check that an ACL or a missing route blocks traffic; max_loss does not apply to it. The check runs
on every apply after the VM and port it names; the plan shows src, dst, count, timeout_s, expect, and
max_loss and wait_s when set, with the ID ping/<src>-><dst> (#2, #3... for repeats).`

func pingBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		srcv, dstv starlark.Value
		count      = 3
		timeout    = 10
		expect     = "success"
		maxLoss    = 0
		wait       = defaultWaitS
	)
	if err := c.Unpack(2, "src", &srcv, "dst", &dstv, "count?", &count, "timeout_s?", &timeout, "expect?", &expect,
		"max_loss?", &maxLoss, "wait_s?", &wait); err != nil {
		return nil, err
	}
	switch {
	case count < 1 || count > 1000:
		return nil, c.Errorf("count %d is out of range 1..1000", count)
	case timeout < 1 || timeout > 3600:
		return nil, c.Errorf("timeout_s %d is out of range 1..3600", timeout)
	case expect != "success" && expect != "failure":
		return nil, c.Errorf("expect %q: want success or failure", expect)
	case maxLoss < 0 || maxLoss > 100:
		return nil, c.Errorf("max_loss %d is out of range 0..100 (percent)", maxLoss)
	case wait < 1 || wait > 3600:
		return nil, c.Errorf("wait_s %d is out of range 1..3600", wait)
	case maxLoss != 0 && expect == "failure":
		return nil, c.Errorf("max_loss applies to expect=\"success\" only: expect=\"failure\" wants no reply at all")
	}
	src, err := resolveSource(c, srcv)
	if err != nil {
		return nil, err
	}
	dst, err := resolveTarget(c, dstv)
	if err != nil {
		return nil, err
	}
	a := &Ping{Src: src.label, Guest: src.guest, Dst: dst.addr, Count: count, TimeoutS: timeout, Expect: expect, MaxLoss: maxLoss}
	if wait != defaultWaitS {
		a.WaitS = wait
	}
	a.M = interp.Meta{Kind: "ping", Name: src.label + " -> " + dst.label, Mode: interp.Command,
		Driver: "check", Host: src.host.Name, ID: checkID(c, "ping", src.label+"->"+dst.label)}
	for _, d := range []string{src.dep, dst.dep} {
		if d != "" {
			a.M.DependsOn = append(a.M.DependsOn, d)
		}
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
