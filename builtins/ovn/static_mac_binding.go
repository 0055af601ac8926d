package ovn

import (
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// A Static_MAC_Binding (OVN 22.12 and later) is a root row found by its
// logical_port and ip, which the schema makes unique. The table has no
// external_ids: its ownership tags are kept in NB_Global (see nbledger.go).
var tableStaticMACBinding = describe(&Table{Name: "Static_MAC_Binding", Builtin: "static_mac_binding()", Key: []string{"logical_port", "ip"}, KeyConflicts: true,
	Columns: []string{"logical_port", "ip", "mac", "override_dynamic_mac"}})

var _ = family(interp.Builtin{Domain: "ovn", Name: "static_mac_binding", Signature: "static_mac_binding(port, ip, mac, override_dynamic_mac=False)", Fn: staticMACBindingBuiltin,
	Doc: `Declares a Static_MAC_Binding: router port port (a router port or its name) reaches address ip at
mac without asking by ARP or neighbour discovery, as ovn-nbctl static-mac-binding-add PORT IP MAC
does. override_dynamic_mac=True makes it win over a binding the router learnt (a MAC_Binding row in
the SB). One port cannot have two bindings for one address. Needs OVN 22.12 or later.`})

// static_mac_binding(port, ip, mac, override_dynamic_mac=)
func staticMACBindingBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		portv    starlark.Value
		ip       interp.IP
		mac      interp.MAC
		override bool
	)
	if err := c.Unpack(3, "port", &portv, "ip", &ip, "mac", &mac, "override_dynamic_mac?", &override); err != nil {
		return nil, err
	}
	rp, err := stateOf(c).routerPortRef(c, "port", portv)
	if err != nil {
		return nil, err
	}
	// ovn-nbctl writes override_dynamic_mac=false too; an unset bool
	// column would read back as false and show as a change.
	a := newRow(tableStaticMACBinding, rp.name+"/"+ip.String(), map[string]any{"logical_port": rp.name,
		"ip": ip, "mac": mac, "override_dynamic_mac": override}, rp.a.M.ID)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
