package virt

import "github.com/ovnrun/ovnrun/internal/topo"

// VMs and their NICs describe themselves in the topology that `ovnrun
// graph` draws (topo.Element).

var (
	_ topo.Element = (*Domain)(nil)
	_ topo.Element = (*Interface)(nil)
)

// Describe implements topo.Element.
func (d *Domain) Describe(b *topo.Builder) { b.AddVM(d.M.Host, d.Domain) }

// Describe implements topo.Element.
func (i *Interface) Describe(b *topo.Builder) {
	b.AddNIC(i.M.Host, i.VM, topo.NIC{Dev: i.Dev, MAC: i.MAC.String(), Bridge: i.Bridge, IfaceID: i.IfaceID})
}
