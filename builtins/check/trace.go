package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// trace(): ovn-trace of a packet from a VM's logical port, summarised as
// the datapaths it crosses, the NAT applied, and the chassis that handles
// each part (tracedriver.go runs it).

const traceDoc = `Traces a packet through the logical network with ovn-trace and says where each part of its path
is processed, to answer the seed's question of whether a distributed gateway port handles a VM's
traffic on the VM's own hypervisor or redirects it to the gateway chassis. src is a VM (its first
NIC on a logical switch port with an IPv4 address) or a logical switch port; dst is an IPv4
address, a logical switch port or a VM. The packet is an ICMP echo request (protocol="icmp", the
default) or a TCP SYN or UDP datagram to dst_port (default 80) with protocol="tcp" or "udp"; its
eth.dst is the router port's MAC when dst is off the port's subnet. ovn-trace runs on central=,
by default the host whose service() starts ovn-northd, once ovn-northd has caught up with the
northbound database (as ovn-nbctl --wait=sb sync waits). The progress line lists, per chassis (named
by host), the datapaths crossed, the NAT applied and where the packet leaves, and says whether it
went through a chassis-redirect port to the gateway chassis. handled_on= (a host or a list of
hosts, in order) makes the check fail unless exactly those hosts process the packet; with
settle_s= (seconds, default 0) it is traced again while they differ, for up to that long, as when
an HA gateway's chassis-redirect port moves once BFD sessions come up or go down. A trace in which
the packet is dropped fails at once. ovnrun trace RUNBOOK SRC DST runs the same from the command
line.`

// Trace is an ovn-trace of one packet, run on the host that can read the
// southbound database.
type Trace struct {
	interp.ActionMeta
	// Src names where the packet comes from: "h1/v0" or a port name.
	Src string
	// Port is the logical switch port the packet enters through, MAC and
	// IP its addresses (IP an interp.IP or a *interp.Future).
	Port string
	MAC  interp.MAC
	IP   any
	// Dst is the destination address (interp.IP or *interp.Future);
	// DstMAC is set when the destination is a port.
	Dst    any
	DstMAC interp.MAC
	// Protocol is icmp, tcp or udp; DstPort is used with tcp and udp.
	Protocol string
	DstPort  int
	// HandledOn are the hosts expected to process the packet, in order;
	// nil when not checked.
	HandledOn []string
	// SettleS is how long a trace handled elsewhere than HandledOn is run
	// again, waiting for the port bindings to settle; 0: not at all.
	SettleS int
	// Chassis maps each host of the runbook to its chassis name: a string,
	// or a *interp.Future when the host does not declare it.
	Chassis map[string]any
}

// Fields implements interp.Action.
func (t *Trace) Fields() []interp.Field {
	f := []interp.Field{
		interp.F("src", t.Src),
		interp.F("port", t.Port),
		interp.F("dst", t.Dst),
		interp.F("protocol", t.Protocol),
	}
	if t.Protocol != "icmp" {
		f = append(f, interp.F("dst_port", t.DstPort))
	}
	f = append(f, interp.F("central", t.M.Host))
	if t.HandledOn != nil {
		f = append(f, interp.F("handled_on", t.HandledOn))
	}
	if t.SettleS > 0 {
		f = append(f, interp.F("settle_s", t.SettleS))
	}
	return f
}

// TraceEnd is one end of a trace as a runbook names it: a logical switch
// port, a VM (one of its ports), or for the destination an address.
type TraceEnd struct {
	Label string
	Port  interp.LogicalPort
	VM    interp.Guest
	IP    interp.IP
}

// TraceOptions are the keyword arguments of trace().
type TraceOptions struct {
	Protocol  string // icmp (default), tcp or udp
	DstPort   int    // with tcp and udp; 80 when 0
	Central   string // host to run ovn-trace on; "" for the one starting ovn-northd
	HandledOn []string
	SettleS   int // see Trace.SettleS
}

// NewTrace returns the trace from src to dst in plan, as `ovnrun trace`
// runs it: ports finds logical switch ports by name.
func NewTrace(plan *interp.Plan, ports func(string) (interp.LogicalPort, bool), src, dst TraceEnd, o TraceOptions) (*Trace, error) {
	if o.Protocol == "" {
		o.Protocol = "icmp"
	}
	if err := checkProtocol(&o); err != nil {
		return nil, err
	}
	t := newTrace(src, dst, "trace/"+src.Label+"->"+dst.Label)
	if err := t.complete(plan, ports, src, dst, o); err != nil {
		return nil, err
	}
	return t, nil
}

func newTrace(src, dst TraceEnd, id string) *Trace {
	t := &Trace{Src: src.Label}
	t.M = interp.Meta{Kind: "trace", Name: src.Label + " -> " + dst.Label, Mode: interp.Command, Driver: "check", ID: id}
	return t
}

func traceBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		srcv, dstv, centralv, handledv starlark.Value
		o                              = TraceOptions{Protocol: "icmp"}
	)
	if err := c.Unpack(2, "src", &srcv, "dst", &dstv, "protocol?", &o.Protocol, "dst_port?", &o.DstPort,
		"central?", &centralv, "handled_on?", &handledv, "settle_s?", &o.SettleS); err != nil {
		return nil, err
	}
	if o.SettleS < 0 || o.SettleS > 600 {
		return nil, c.Errorf("settle_s %d is out of range 0..600", o.SettleS)
	}
	if err := checkProtocol(&o); err != nil {
		return nil, c.Errorf("%v", err)
	}
	src, err := traceEnd(c, "src", srcv, false)
	if err != nil {
		return nil, err
	}
	dst, err := traceEnd(c, "dst", dstv, true)
	if err != nil {
		return nil, err
	}
	if centralv != nil && centralv != starlark.None {
		h, err := c.HostArg("central", centralv)
		if err != nil {
			return nil, err
		}
		o.Central = h.Name
	}
	if o.HandledOn, err = hostList(c, handledv); err != nil {
		return nil, err
	}
	if o.SettleS > 0 && o.HandledOn == nil {
		return nil, c.Errorf("settle_s= waits for handled_on=, which is not given")
	}
	t := newTrace(src, dst, checkID(c, "trace", src.Label+"->"+dst.Label))
	if err := c.Add(t); err != nil {
		return nil, err
	}
	// The VM's ports and the host starting ovn-northd may be declared
	// after this call: then the trace is completed once the runbook is read.
	plan := c.Ev.Plan()
	if err := t.complete(plan, c.Ev.Port, src, dst, o); err != nil {
		c.AtEnd(func() error { return t.complete(plan, c.Ev.Port, src, dst, o) })
	}
	return starlark.None, nil
}

func checkProtocol(o *TraceOptions) error {
	switch o.Protocol {
	case "icmp":
		if o.DstPort != 0 {
			return fmt.Errorf("dst_port= goes with protocol tcp or udp, not icmp")
		}
	case "tcp", "udp":
		if o.DstPort == 0 {
			o.DstPort = 80
		}
		if o.DstPort < 1 || o.DstPort > 65535 {
			return fmt.Errorf("dst_port %d is out of range 1..65535", o.DstPort)
		}
	default:
		return fmt.Errorf("protocol %q: want icmp, tcp or udp", o.Protocol)
	}
	return nil
}

// traceEnd checks a src or dst argument; an address is a destination only.
func traceEnd(c *interp.Call, param string, v starlark.Value, isDst bool) (TraceEnd, error) {
	switch v := v.(type) {
	case interp.LogicalPort:
		return TraceEnd{Label: v.PortName(), Port: v}, nil
	case interp.Guest:
		return TraceEnd{Label: v.GuestHost().Name + "/" + v.GuestName(), VM: v}, nil
	case starlark.String:
		if !isDst {
			break
		}
		ip, err := interp.ParseIP(string(v))
		if err != nil {
			return TraceEnd{}, c.Errorf("dst: %v", err)
		}
		if !ip.Is4() {
			return TraceEnd{}, c.Errorf("dst: %s is an IPv6 address; trace() traces IPv4 packets", ip)
		}
		return TraceEnd{Label: ip.String(), IP: ip}, nil
	}
	if isDst {
		return TraceEnd{}, c.Errorf("for parameter dst: got %s, want IPv4 address, logical switch port or vm", v.Type())
	}
	return TraceEnd{}, c.Errorf("for parameter %s: got %s, want vm or logical switch port", param, v.Type())
}

// hostList reads handled_on=: a host, a host name, or a list of them.
func hostList(c *interp.Call, v starlark.Value) ([]string, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	items := []starlark.Value{v}
	if l, ok := v.(*starlark.List); ok {
		items = nil
		for i := 0; i < l.Len(); i++ {
			items = append(items, l.Index(i))
		}
	}
	if len(items) == 0 {
		return nil, c.Errorf("handled_on: want at least one host")
	}
	out := make([]string, len(items))
	for i, item := range items {
		h, err := c.HostArg("handled_on", item)
		if err != nil {
			return nil, err
		}
		out[i] = h.Name
	}
	return out, nil
}

// complete fills in what needs the whole runbook: the ports of VMs, the
// central host and the hosts' chassis names.
func (t *Trace) complete(plan *interp.Plan, ports func(string) (interp.LogicalPort, bool), src, dst TraceEnd, o TraceOptions) error {
	sp, err := endPort(ports, src)
	if err != nil {
		return fmt.Errorf("src: %w", err)
	}
	t.Src, t.Port, t.MAC, t.Protocol, t.DstPort, t.HandledOn, t.SettleS = src.Label, sp.PortName(), sp.PortMAC(), o.Protocol, o.DstPort, o.HandledOn, o.SettleS
	if !t.MAC.IsSet() {
		return fmt.Errorf("src: logical port %q has no static MAC address to put in the packet", sp.PortName())
	}
	if t.IP, err = portIPv4(sp); err != nil {
		return fmt.Errorf("src: %w", err)
	}
	deps := []string{sp.PortID()}
	if src.VM != nil {
		deps = append(deps, src.VM.GuestID())
	}
	if dst.IP.IsSet() {
		t.Dst = dst.IP
	} else {
		dp, err := endPort(ports, dst)
		if err != nil {
			return fmt.Errorf("dst: %w", err)
		}
		if t.Dst, err = portIPv4(dp); err != nil {
			return fmt.Errorf("dst: %w", err)
		}
		t.DstMAC = dp.PortMAC()
		deps = append(deps, dp.PortID())
	}
	t.M.DependsOn = deps
	if t.M.Host = o.Central; t.M.Host == "" {
		if t.M.Host, err = CentralHost(plan); err != nil {
			return err
		}
	}
	t.Chassis = map[string]any{}
	for _, h := range plan.HostList() {
		t.Chassis[h.Name] = h.ChassisField()
	}
	return nil
}

// endPort is the logical switch port of a trace end: the port itself, or
// the first NIC of a VM that is a logical port with an IPv4 address.
func endPort(ports func(string) (interp.LogicalPort, bool), e TraceEnd) (interp.LogicalPort, error) {
	if e.Port != nil {
		return e.Port, nil
	}
	vm, ok := e.VM.(starlark.HasAttrs)
	if !ok {
		return nil, fmt.Errorf("%s has no NICs to trace from", e.Label)
	}
	nics, err := vm.Attr("nics")
	l, _ := nics.(*starlark.List)
	if err != nil || l == nil {
		return nil, fmt.Errorf("%s has no NICs to trace from", e.Label)
	}
	for i := 0; i < l.Len(); i++ {
		var p interp.LogicalPort
		switch n := l.Index(i).(type) {
		case interp.LogicalPort:
			p = n
		case starlark.String:
			p, _ = ports(string(n))
		}
		if p != nil && p.PortIPv4() != starlark.None {
			return p, nil
		}
	}
	return nil, fmt.Errorf("vm %s has no NIC on a logical switch port with an IPv4 address; attach() one, or trace from a port", e.Label)
}

// portIPv4 is a port's IPv4 address: an interp.IP, or a *interp.Future when
// it is dynamic.
func portIPv4(p interp.LogicalPort) (any, error) {
	switch a := p.PortIPv4().(type) {
	case *interp.Future:
		return a, nil
	case starlark.String:
		if ip, err := interp.ParseIP(string(a)); err == nil && ip.Is4() {
			return ip, nil
		}
		return nil, fmt.Errorf("logical port %q has IPv4 address %q, which is not one", p.PortName(), string(a))
	}
	return nil, fmt.Errorf("logical port %q has no IPv4 address (static or dynamic) to trace", p.PortName())
}

// CentralHost is the host that runs the OVN central services: the one a
// service() starts ovn-northd (or ovn-central) on. ovn-trace runs there,
// next to the southbound database.
func CentralHost(plan *interp.Plan) (string, error) {
	var found []string
	for _, st := range plan.Steps {
		for _, a := range st.Actions {
			m := a.Meta()
			if m.Kind != "service" {
				continue
			}
			var unit, state string
			for _, f := range a.Fields() {
				s, _ := f.Value.(string)
				switch f.Key {
				case "unit":
					unit = strings.TrimSuffix(s, ".service")
				case "state":
					state = s
				}
			}
			if (unit == "ovn-northd" || unit == "ovn-central") && state != "stopped" && !slices.Contains(found, m.Host) {
				found = append(found, m.Host)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no service() of the runbook starts ovn-northd: pass central=, the host whose ovn-trace can read the southbound database")
	}
	return "", fmt.Errorf("hosts %s all start ovn-northd: pass central=, the one to run ovn-trace on", strings.Join(found, ", "))
}

// checkID names the n-th check of a kind between the same ends
// "<kind>/<pair>#n", so a runbook can check a path before and after a
// change.
func checkID(c *interp.Call, kind, pair string) string {
	seen := c.Ev.Domain("check", func() any { return map[string]int{} }).(map[string]int)
	key := kind + "/" + pair
	seen[key]++
	if n := seen[key]; n > 1 {
		return key + "#" + strconv.Itoa(n)
	}
	return key
}
