package check

import (
	"fmt"
	"strings"
)

// Which chassis processes which part of a traced path. OVN runs a packet's
// pipelines on the chassis where it enters (the VM's hypervisor) until one
// of two things moves it through a tunnel: a logical switch outputs it to
// a port bound to another chassis (that switch's egress pipeline runs
// there), or a router sends it to a chassis-redirect port (the rest runs on
// the gateway chassis of the distributed gateway port). Patch ports between
// datapaths and localnet ports keep it where it is.

// Path is a traced packet's way through the logical network, by chassis.
type Path struct {
	// Segments are the runs of pipelines one chassis processes, in order.
	Segments []Segment
	// Redirect is the chassis-redirect port the packet was sent to, "" if
	// none: then everything after it ran on that port's gateway chassis,
	// Gateway.
	Redirect, Gateway string
	// Exits are where the packet leaves the logical network; none means
	// it was dropped.
	Exits []Output
	// DroppedIn is the first pipeline that dropped the packet, if any.
	DroppedIn *Pipeline
	// ARP is set when a router had no MAC binding for the next hop: the
	// path after it is that of the ARP request the packet triggers.
	ARP bool
}

// Segment is a run of pipelines on one chassis.
type Segment struct {
	Chassis string // chassis name; "" when the port it is on is not bound
	// Why the packet is on this chassis: "where PORT is bound" (the source
	// port, or a port a switch output it to) or "gateway chassis of CR".
	Why string
	// Tunnel is set when the packet came here from another chassis.
	Tunnel    bool
	Pipelines []*Pipeline
}

// Locate assigns each pipeline of root, which srcPort's packet enters, to
// the chassis that processes it.
func Locate(root *Pipeline, sb *Southbound, srcPort string) *Path {
	path := &Path{Exits: root.Exits()}
	var walk func(p *Pipeline, chassis, why string)
	walk = func(p *Pipeline, chassis, why string) {
		if p.Via != "" {
			path.Redirect, path.Gateway = p.Via, sb.ChassisOf(p.Via)
			chassis, why = path.Gateway, "gateway chassis of "+p.Via
		} else if pb, ok := sb.Ports[p.OutPort]; ok && p.Stage == "egress" && pb.Chassis != "" && pb.Type != "chassisredirect" {
			if pb.Chassis != chassis {
				why = "where " + p.OutPort + " is bound"
				if pb.Type != "" { // an l3gateway port: a gateway router's
					why = "where " + pb.Type + " port " + p.OutPort + " is bound"
				}
			}
			chassis = pb.Chassis
		}
		if p.Dropped && path.DroppedIn == nil {
			path.DroppedIn = p
		}
		path.ARP = path.ARP || p.ARP
		n := len(path.Segments)
		if n == 0 || path.Segments[n-1].Chassis != chassis {
			path.Segments = append(path.Segments, Segment{Chassis: chassis, Why: why, Tunnel: n > 0})
			n++
		}
		path.Segments[n-1].Pipelines = append(path.Segments[n-1].Pipelines, p)
		for _, c := range p.Children {
			walk(c, chassis, why)
		}
	}
	walk(root, sb.ChassisOf(srcPort), "where "+srcPort+" is bound")
	return path
}

// Hosts are the hosts that process the packet, in order, with hostOf
// naming a chassis.
func (p *Path) Hosts(hostOf func(chassis string) string) []string {
	var out []string
	for _, s := range p.Segments {
		if h := hostOf(s.Chassis); len(out) == 0 || out[len(out)-1] != h {
			out = append(out, h)
		}
	}
	return out
}

// Verdict says in one line where the packet was processed.
func (p *Path) Verdict(hostOf func(chassis string) string) string {
	hosts := p.Hosts(hostOf)
	var s string
	switch {
	case p.Redirect != "":
		s = fmt.Sprintf("redirected through %s to the gateway chassis %s", p.Redirect, hostOf(p.Gateway))
		if len(hosts) == 1 {
			s += ", which is also where the packet entered"
		}
	case len(hosts) == 1:
		s = "handled entirely on " + hosts[0]
	default:
		s = "handled on " + strings.Join(hosts, ", then ")
	}
	if len(p.Exits) == 0 {
		where := "without being output anywhere"
		if p.DroppedIn != nil {
			where = "in " + p.DroppedIn.Datapath + " " + p.DroppedIn.Stage
		}
		s = "dropped " + where + "; " + s
	}
	if p.ARP {
		s += " (the next hop has no MAC binding yet: the path is that of the ARP request the packet triggers)"
	}
	return s
}

// Lines describe each segment: "on h1, where h1_v0_vnet2 is bound: ls2 ->
// lr1 ingress (to cr-lr1-ls3)".
func (p *Path) Lines(hostOf func(chassis string) string) []string {
	out := make([]string, len(p.Segments))
	for i, s := range p.Segments {
		where := "on " + hostOf(s.Chassis)
		if s.Chassis == "" {
			where = "on no chassis"
		}
		why := s.Why
		if s.Tunnel {
			why += ", through a tunnel"
		}
		out[i] = fmt.Sprintf("%s, %s: %s", where, why, strings.Join(s.hops(), " -> "))
	}
	return out
}

// hops renders a segment's pipelines, an ingress and the egress after it
// on the same datapath as one hop, then where the packet leaves.
func (s Segment) hops() []string {
	var (
		out   []string
		notes []string
	)
	for i := 0; i < len(s.Pipelines); i++ {
		p := s.Pipelines[i]
		name, group := p.Datapath, []*Pipeline{p}
		if i+1 < len(s.Pipelines) && p.Stage == "ingress" && s.Pipelines[i+1].Stage == "egress" && s.Pipelines[i+1].Datapath == p.Datapath {
			group = append(group, s.Pipelines[i+1])
			i++
		} else {
			name += " " + p.Stage
		}
		notes = notes[:0]
		var exits []string
		for _, q := range group {
			if q.ARP {
				notes = append(notes, "ARP request")
			}
			notes = append(notes, q.NAT...)
			for _, c := range q.Children {
				if c.Via != "" {
					notes = append(notes, "to "+c.Via)
				}
			}
			if q.Dropped {
				notes = append(notes, "dropped")
			}
			for _, o := range q.Outputs {
				if o.Type != "patch" {
					exits = append(exits, exitString(o))
				}
			}
		}
		if len(notes) > 0 {
			name += " (" + strings.Join(notes, ", ") + ")"
		}
		out = append(out, name)
		out = append(out, exits...)
	}
	return out
}

func exitString(o Output) string {
	switch o.Type {
	case "":
		return "out " + o.Port
	case "localnet":
		return "out " + o.Port + " (localnet)"
	}
	return fmt.Sprintf("out %s (%s)", o.Port, o.Type)
}
