package ovn

import (
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Port groups are named sets of switch ports that ACL matches name as
// @NAME, and that hold ACLs of their own (acl(on=pg)). Their acls column is
// not written here: each ACL links itself through Table.In.
var tablePortGroup = describe(&Table{Name: "Port_Group", Builtin: "port_group()", Key: []string{"name"},
	Columns: []string{"ports", "external_ids"}})

var _ = family(interp.Builtin{Domain: "ovn", Name: "port_group", Signature: "port_group(name, ports=[], external_ids=)",
	Fn: portGroupBuiltin,
	Doc: `Declares a Port_Group: a named set of logical switch ports (ports=, handles from lsp() or their
names), like ovn-nbctl pg-add NAME PORT... (pg-set-ports to change them). ACL matches name it as
@name (outport == @name), and its ports' addresses as $name_ip4 and $name_ip6, which ovn-northd
makes. name is ASCII and matches [a-zA-Z_.][a-zA-Z_.0-9]*, as ovn-nb(5) requires. A port group's
own ACLs are declared with acl(on=group). Returns a port group with attributes name and ports.`})

// PortGroup is the handle of a Port_Group.
type PortGroup struct {
	handle
	a     *Row
	ports []string
}

func (g *PortGroup) AttrNames() []string { return []string{"id", "name", "ports"} }

func (g *PortGroup) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(g.a.M.ID), nil
	case "name":
		return starlark.String(g.name), nil
	case "ports":
		return stringList(g.ports), nil
	}
	return nil, nil
}

// port_group(name, ports=, external_ids=)
func portGroupBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        string
		ports       starlark.Value
		externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "ports?", &ports, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if err := checkGroupName(c, name); err != nil {
		return nil, err
	}
	st := stateOf(c)
	var (
		refs  []rowRef
		names []string
		deps  []string
	)
	if ports != nil {
		list, ok := ports.(starlark.Indexable)
		if _, isStr := ports.(starlark.String); !ok || isStr {
			return nil, c.Errorf("ports: got %s, want a list of switch ports or their names", ports.Type())
		}
		for i := range list.Len() {
			p, err := st.portRef(c, "ports", list.Index(i))
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				if n == p.name {
					return nil, c.Errorf("ports: %q is listed twice", n)
				}
			}
			refs, names, deps = append(refs, rowRef{p.a.M.ID}), append(names, p.name), append(deps, p.a.M.ID)
		}
	}
	a := newRow(tablePortGroup, name, map[string]any{"ports": refs, "external_ids": externalIDs}, deps...)
	if err := c.Add(a); err != nil {
		return nil, err
	}
	st.portGroups[name] = a
	return &PortGroup{handle: handle{"port_group", name}, a: a, ports: names}, nil
}
