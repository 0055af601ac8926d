package check

import "github.com/ovnrun/ovnrun/interp"

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
}

// Fields implements interp.Action.
func (p *Ping) Fields() []interp.Field {
	return []interp.Field{
		interp.F("src", p.Src),
		interp.F("dst", p.Dst),
		interp.F("count", p.Count),
		interp.F("timeout_s", p.TimeoutS),
		interp.F("expect", p.Expect),
	}
}
