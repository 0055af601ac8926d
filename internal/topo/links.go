package topo

import (
	"fmt"
	"strings"
)

// LinkKind says what ties two parts of a topology together.
type LinkKind string

// Kinds of links, each drawn as one edge.
const (
	// LinkPeer patches a router port to its router-type switch port, or to
	// its peer router port.
	LinkPeer LinkKind = "peer"
	// LinkVIF binds a switch port to the VM NIC whose iface-id names it.
	LinkVIF LinkKind = "vif"
	// LinkLocalnet connects a localnet port to its physical network.
	LinkLocalnet LinkKind = "localnet"
	// LinkBridgeMapping connects a physical network to the host bridge that
	// ovn-bridge-mappings maps it to.
	LinkBridgeMapping LinkKind = "bridge_mapping"
	// LinkGatewayChassis places a distributed gateway port on a chassis.
	LinkGatewayChassis LinkKind = "gateway_chassis"
	// LinkGatewayRouter pins a gateway router to a chassis (options:chassis).
	LinkGatewayRouter LinkKind = "gateway_router"
	// LinkRoute connects a host to the physical network its route's nexthop
	// is on.
	LinkRoute LinkKind = "route"
)

// A Ref names one end of a link: "kind:name" with kind one of
//
//	switch:NAME  router:NAME  lsp:NAME  lrp:NAME  net:NETWORK
//	host:HOST (the host itself, or its chassis)  chassis:NAME (not a lab host)
//	nic:HOST/VM/DEV  bridge:HOST/BRIDGE
type Ref string

// Link is one edge of the topology, From its logical end To its physical end
// (or, for router-to-router patches, in name order).
type Link struct {
	Kind     LinkKind
	From, To Ref
	Label    string
}

func (l Link) String() string {
	s := fmt.Sprintf("%s %s -- %s", l.Kind, l.From, l.To)
	if l.Label != "" {
		s += " (" + l.Label + ")"
	}
	return s
}

func chassisRef(c Chassis) Ref {
	if c.Host != "" {
		return Ref("host:" + c.Host)
	}
	return Ref("chassis:" + c.Label())
}

// Links returns every edge of the topology in a stable order: for each
// router, its gateway chassis and patches; for each switch, its VIFs and
// localnet uplink; then bridge mappings and host routes.
func (t *Topology) Links() []Link {
	var out []Link
	for _, r := range t.Routers {
		if r.Chassis != nil {
			out = append(out, Link{LinkGatewayRouter, Ref("router:" + r.Name), chassisRef(*r.Chassis), "gateway router"})
		}
		for _, p := range r.Ports {
			if p.SwitchPort != "" {
				out = append(out, Link{LinkPeer, Ref("lrp:" + p.Name), Ref("lsp:" + p.SwitchPort), ""})
			}
			if peer, _ := t.RouterPort(p.Peer); peer != nil && p.Name < peer.Name {
				out = append(out, Link{LinkPeer, Ref("lrp:" + p.Name), Ref("lrp:" + peer.Name), ""})
			}
			for _, gc := range p.GatewayChassis {
				out = append(out, Link{LinkGatewayChassis, Ref("lrp:" + p.Name), chassisRef(gc.Chassis),
					fmt.Sprintf("gateway chassis, priority %d", gc.Priority)})
			}
		}
	}
	for _, s := range t.Switches {
		for _, p := range s.Ports {
			for _, v := range p.VIFs {
				out = append(out, Link{LinkVIF, Ref("lsp:" + p.Name), Ref("nic:" + v.Host + "/" + v.VM + "/" + v.Dev), ""})
			}
			if p.Type == "localnet" && p.NetworkName != "" {
				out = append(out, Link{LinkLocalnet, Ref("lsp:" + p.Name), Ref("net:" + p.NetworkName), ""})
			}
		}
	}
	for _, net := range t.Networks() {
		for _, h := range t.Hosts {
			for _, b := range h.Bridges {
				for _, n := range b.Networks {
					if n == net {
						out = append(out, Link{LinkBridgeMapping, Ref("net:" + net), Ref("bridge:" + h.Name + "/" + b.Name), ""})
					}
				}
			}
		}
	}
	for _, h := range t.Hosts {
		for _, r := range h.Routes {
			if net := t.networkOf(r.Via); net != "" {
				out = append(out, Link{LinkRoute, Ref("host:" + h.Name), Ref("net:" + net), r.Dev})
			}
		}
	}
	return out
}

func (r HostRoute) String() string {
	s := r.Prefix + " via " + r.Via
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}

// split returns the kind and name of a reference.
func (r Ref) split() (kind, name string) {
	kind, name, _ = strings.Cut(string(r), ":")
	return kind, name
}
