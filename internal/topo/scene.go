package topo

import (
	"fmt"
	"strings"
)

// A scene is a topology laid out as blocks, ports and edges, independent of
// the output language: DOT draws a block as a table with a cell per port,
// Mermaid as a subgraph with a node per port.
type scene struct {
	title    string
	blocks   []*block   // outside any host: networks, switches, routers, foreign chassis
	clusters []*cluster // one per host
	edges    []edge
}

type block struct {
	ref   Ref      // what the block stands for; edges to the block itself use it
	kind  string   // switch, router, network, chassis, host, vm, bridge
	title []string // first line is the name, the others details
	ports []port   // drawn side by side, as the seed's hand-drawn picture does
	notes []string // drawn below the ports: NAT rules, static routes
}

// port is one port of a block (a switch or router port, a VM NIC, a bridge's
// interface).
type port struct {
	ref   Ref      // "" when no edge can end at the port
	lines []string // the first is its name
	muted bool     // drawn greyed out: a NIC bound to no logical port
}

type cluster struct {
	ref    Ref
	title  string
	blocks []*block
}

// edge is drawn from its upper end (from) to its lower end (to): layouts put
// a tail above its head, so the order decides the picture's layers.
type edge struct {
	kind     LinkKind
	from, to Ref
	label    string
	// loose edges do not pull their ends into layers (a gateway chassis
	// reaching down into a host).
	loose bool
}

func newScene(t *Topology) *scene {
	sc := &scene{title: t.Source}
	for _, net := range t.Networks() {
		sc.blocks = append(sc.blocks, &block{ref: Ref("net:" + net), kind: "network", title: []string{net, "physical network"}})
	}
	for _, s := range t.Switches {
		sc.blocks = append(sc.blocks, switchBlock(s))
	}
	for _, r := range t.Routers {
		sc.blocks = append(sc.blocks, routerBlock(r))
	}
	foreign := map[Ref]bool{}
	for _, l := range t.Links() {
		if kind, name := l.To.split(); kind == "chassis" && !foreign[l.To] {
			foreign[l.To] = true
			sc.blocks = append(sc.blocks, &block{ref: l.To, kind: "chassis", title: []string{"chassis " + name, "not a host of the runbook"}})
		}
		sc.edges = append(sc.edges, drawnEdge(t, l))
	}
	for _, h := range t.Hosts {
		sc.clusters = append(sc.clusters, hostCluster(h))
	}
	return sc
}

// drawnEdge orients a link for layering: outside networks on top, then the
// switches that reach them, routers, the other switches, and VMs at the
// bottom, in their hosts.
func drawnEdge(t *Topology, l Link) edge {
	e := edge{kind: l.Kind, from: l.From, to: l.To, label: l.Label}
	switch l.Kind {
	case LinkPeer:
		_, name := l.To.split()
		if s := t.switchOf(name); s != nil && s.HasLocalnet() {
			e.from, e.to = e.to, e.from
		}
	case LinkLocalnet:
		e.from, e.to = e.to, e.from
	case LinkBridgeMapping, LinkGatewayChassis, LinkGatewayRouter:
		e.loose = true
	}
	return e
}

// switchOf returns the switch holding the port called name, or nil.
func (t *Topology) switchOf(port string) *Switch {
	for _, s := range t.Switches {
		if s.Port(port) != nil {
			return s
		}
	}
	return nil
}

func switchBlock(s *Switch) *block {
	b := &block{ref: Ref("switch:" + s.Name), kind: "switch", title: []string{"switch " + s.Name}}
	if s.Subnet != "" {
		b.title = append(b.title, "subnet "+s.Subnet)
	}
	if s.IPv6Prefix != "" {
		b.title = append(b.title, "ipv6_prefix "+s.IPv6Prefix)
	}
	for _, p := range s.Ports {
		lines := []string{p.Name}
		switch p.Type {
		case "":
		case "router":
			lines = append(lines, "router port "+p.RouterPort)
		case "localnet":
			lines = append(lines, "localnet "+p.NetworkName)
		default:
			lines = append(lines, "type "+p.Type)
		}
		lines = append(lines, p.Addresses...)
		if p.DynamicAddresses != "" {
			lines = append(lines, "assigned "+p.DynamicAddresses)
		}
		b.ports = append(b.ports, port{ref: Ref("lsp:" + p.Name), lines: lines})
	}
	return b
}

func routerBlock(r *Router) *block {
	b := &block{ref: Ref("router:" + r.Name), kind: "router", title: []string{"router " + r.Name}}
	if r.Chassis != nil {
		b.title = append(b.title, "gateway router on "+r.Chassis.Label())
	}
	for _, p := range r.Ports {
		lines := append([]string{p.Name, p.MAC}, p.Networks...)
		if p.Peer != "" {
			lines = append(lines, "peer "+p.Peer)
		}
		for _, gc := range p.GatewayChassis {
			lines = append(lines, fmt.Sprintf("gateway chassis %s (priority %d)", gc.Label(), gc.Priority))
		}
		b.ports = append(b.ports, port{ref: Ref("lrp:" + p.Name), lines: lines})
	}
	for _, n := range r.NAT {
		note := fmt.Sprintf("nat %s %s = %s", n.Type, n.ExternalIP, n.LogicalIP)
		if n.LogicalPort != "" {
			note += fmt.Sprintf(" (distributed: %s %s)", n.LogicalPort, n.ExternalMAC)
		}
		b.notes = append(b.notes, note)
	}
	for _, rt := range r.Routes {
		note := "route " + rt.Prefix + " via " + rt.Nexthop
		if rt.OutputPort != "" {
			note += " port " + rt.OutputPort
		}
		b.notes = append(b.notes, note)
	}
	return b
}

func hostCluster(h *Host) *cluster {
	c := &cluster{ref: Ref("cluster:" + h.Name), title: "host " + h.Name}
	if h.Address != "" {
		c.title += " (" + h.Address + ")"
	}
	self := &block{ref: Ref("host:" + h.Name), kind: "host", title: []string{h.Name}}
	if h.Chassis {
		self.kind = "chassis"
		self.title = []string{"chassis " + h.Name, "system-id " + h.SystemID}
		if h.SystemID == "" {
			self.title[1] = "system-id read at apply time"
		}
	}
	for _, r := range h.Routes {
		self.title = append(self.title, "route "+r.String())
	}
	c.blocks = append(c.blocks, self)
	for _, br := range h.Bridges {
		b := &block{ref: Ref("bridge:" + h.Name + "/" + br.Name), kind: "bridge", title: []string{"bridge " + br.Name}}
		if len(br.Networks) > 0 {
			b.title = append(b.title, "ovn-bridge-mappings "+strings.Join(br.Networks, ", "))
		}
		for _, iface := range br.Ifaces {
			b.ports = append(b.ports, port{lines: []string{iface}})
		}
		c.blocks = append(c.blocks, b)
	}
	for _, v := range h.VMs {
		b := &block{ref: Ref("vm:" + h.Name + "/" + v.Name), kind: "vm", title: []string{"vm " + v.Name}}
		for _, n := range v.NICs {
			p := port{ref: Ref("nic:" + h.Name + "/" + v.Name + "/" + n.Dev), lines: []string{n.Dev, n.MAC}}
			if n.Port == "" {
				p.muted = true
				p.lines = append(p.lines, "no logical port")
			}
			b.ports = append(b.ports, p)
		}
		c.blocks = append(c.blocks, b)
	}
	return c
}

// endpoints returns the references edges end at.
func (sc *scene) endpoints() map[Ref]bool {
	m := map[Ref]bool{}
	for _, e := range sc.edges {
		m[e.from], m[e.to] = true, true
	}
	return m
}
