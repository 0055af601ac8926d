package check

import (
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// Ping sends ICMP echo requests from a host or a VM to an address and
// succeeds when the replies match what is expected: the lab's end-to-end
// check, as the seed pings from a VM to the outside host and back.
type Ping struct {
	interp.ActionMeta
	// Src names where the ping runs: "h0", or "h0/v0" for VM v0 on h0.
	Src string
	// Guest is the VM (libvirt domain name) the ping runs in; "" when it
	// runs on the host Meta.Host itself.
	Guest string
	// Dst is the address pinged: an interp.IP, a host's DNS name (string),
	// or an *interp.Future when only apply knows it.
	Dst      any
	Count    int
	TimeoutS int
	Expect   string // "success" or "failure"
	// MaxLoss is the percentage (0..100) of the count requests sent after
	// the first reply that may go unanswered.
	MaxLoss int
	// WaitS bounds the waits for the destination port to be up and the
	// source VM's address, in seconds; 0 is the default (defaultWait).
	WaitS int `json:",omitempty"`
}

// Fields implements interp.Action.
func (p *Ping) Fields() []interp.Field {
	return []interp.Field{
		interp.F("src", p.Src),
		interp.F("dst", p.Dst),
		interp.F("count", p.Count),
		interp.F("timeout_s", p.TimeoutS),
		interp.F("expect", p.Expect),
		interp.F("max_loss", p.maxLossField()),
		interp.F("wait_s", p.waitField()),
	}
}

// waitField leaves the default unset, so that plans read as before.
func (p *Ping) waitField() any {
	if p.WaitS == 0 {
		return nil
	}
	return p.WaitS
}

// wait is how long the ping waits for its port and its source's address.
func (p *Ping) wait() time.Duration {
	if p.WaitS == 0 {
		return defaultWait
	}
	return time.Duration(p.WaitS) * time.Second
}

// maxLossField leaves the default 0 unset, so that plans of runbooks that
// do not set it read as before.
func (p *Ping) maxLossField() any {
	if p.MaxLoss == 0 {
		return nil
	}
	return p.MaxLoss
}

// TCP connects from a VM to a port, Count times, and succeeds when the
// connections end as expected; VMs in Listeners serve the port meanwhile.
type TCP struct {
	interp.ActionMeta
	// Src is "h0/v0" for VM Guest on host Meta.Host, where the connections
	// run.
	Src   string
	Guest string
	// Dst is the address connected to, as Ping's.
	Dst      any
	Port     int
	Count    int
	TimeoutS int
	Expect   string // "success", "refused", "timeout" or "failure"
	// Listeners are the VMs that serve Port during the check: dst when it
	// is a VM, or the backends= behind an address.
	Listeners []VMRef
}

// VMRef names a VM: Label "h0/v1" for domain VM on host Host.
type VMRef struct {
	Label, Host, VM string
}

// Fields implements interp.Action.
func (t *TCP) Fields() []interp.Field {
	fs := []interp.Field{
		interp.F("src", t.Src),
		interp.F("dst", t.Dst),
		interp.F("port", t.Port),
		interp.F("count", t.Count),
		interp.F("timeout_s", t.TimeoutS),
		interp.F("expect", t.Expect),
	}
	var ls []string
	for _, l := range t.Listeners {
		ls = append(ls, l.Label)
	}
	return append(fs, interp.F("listeners", ls))
}
