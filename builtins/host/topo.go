package host

import (
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/internal/topo"
)

// The host actions that put something in the topology that `ovnrun graph`
// draws describe it (topo.Element): chassis settings, bridges, routes.

var (
	_ topo.Element = (*ExternalIDs)(nil)
	_ topo.Element = (*OVSBridge)(nil)
	_ topo.Element = (*Route)(nil)
)

// Describe implements topo.Element.
func (e *ExternalIDs) Describe(b *topo.Builder) {
	h := b.Host(e.M.Host)
	if h == nil {
		return
	}
	if e.IDs["ovn-remote"] != "" || e.IDs["system-id"] != "" {
		h.Chassis = true
	}
	if h.SystemID == "" {
		h.SystemID = e.IDs["system-id"]
	}
	for pair := range strings.SplitSeq(e.IDs["ovn-bridge-mappings"], ",") {
		if network, br, ok := strings.Cut(strings.TrimSpace(pair), ":"); ok {
			b.AddBridgeMapping(h.Name, network, br)
		}
	}
}

// Describe implements topo.Element.
func (o *OVSBridge) Describe(b *topo.Builder) {
	if h := b.Host(o.M.Host); h != nil {
		h.Bridges = append(h.Bridges, &topo.Bridge{Name: o.Bridge, Ifaces: slices.Clone(o.Ports)})
	}
}

// Describe implements topo.Element.
func (r *Route) Describe(b *topo.Builder) {
	if h := b.Host(r.M.Host); h != nil {
		h.Routes = append(h.Routes, topo.HostRoute{Prefix: r.Prefix.String(), Via: r.Via.String(), Dev: r.Dev})
	}
}
