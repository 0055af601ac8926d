package ovn

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// The HA chassis group tables. A group is named and lives on its own (a root
// table); its chassis are HA_Chassis rows it holds through ha_chassis, found
// by chassis_name as ovn-nbctl ha-chassis-group-add-chassis finds them. A
// distributed gateway port (lrp) or an external switch port (lsp) uses a
// group through its own ha_chassis_group column.
var (
	tableHAChassisGroup = describe(&Table{Name: "HA_Chassis_Group", Builtin: "ha_chassis_group()", Key: []string{"name"},
		Columns: []string{"external_ids"}})
	groupHAChassis = &Ref{Table: "HA_Chassis_Group", Column: "ha_chassis", Field: "group"}
	tableHAChassis = describe(&Table{Name: "HA_Chassis", Builtin: "ha_chassis_group()", Key: []string{"chassis_name"}, KeyConflicts: true,
		Columns: []string{"chassis_name", "priority", "external_ids"}, In: []*Ref{groupHAChassis}})
)

var _ = family(interp.Builtin{Domain: "ovn", Name: "ha_chassis_group",
	Signature: "ha_chassis_group(name, chassis=, external_ids=)", Fn: haChassisGroupBuiltin,
	Doc: `Declares an HA_Chassis_Group named name with one HA_Chassis row per entry of chassis=, a dict
from a chassis (a host, a host's name, or a chassis name) to its priority (0-32767; the highest live
chassis is active): ovn-nbctl ha-chassis-group-add NAME, then ha-chassis-group-add-chassis NAME
CHASSIS PRIORITY for each. A host's chassis name is its declared system_id, else it is read from the
host at apply time. Pass the result to lrp(ha_chassis_group=), which makes the router port a
distributed gateway port on the group's chassis, or to lsp(type="external", ha_chassis_group=), whose
port the active chassis binds (ovn-nbctl set Logical_Router_Port|Logical_Switch_Port PORT
ha_chassis_group=UUID). Returns a group with attributes id, name and chassis (chassis name to
priority; a host whose chassis name is read at apply time appears under its host name).`})

// HAChassisGroup is the handle of an HA_Chassis_Group.
type HAChassisGroup struct {
	handle
	a       *Row
	chassis map[string]int // label (chassis or host name) -> priority
}

func (g *HAChassisGroup) AttrNames() []string { return []string{"chassis", "id", "name"} }

func (g *HAChassisGroup) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(g.a.M.ID), nil
	case "name":
		return starlark.String(g.name), nil
	case "chassis":
		d := starlark.NewDict(len(g.chassis))
		for _, k := range sortedKeys(g.chassis) {
			_ = d.SetKey(starlark.String(k), starlark.MakeInt(g.chassis[k]))
		}
		d.Freeze()
		return d, nil
	}
	return nil, nil
}

// haGroups are the groups declared so far in one evaluation, by name.
func haGroups(c *interp.Call) map[string]*HAChassisGroup {
	return c.Ev.Domain("ovn/ha_chassis_group", func() any { return map[string]*HAChassisGroup{} }).(map[string]*HAChassisGroup)
}

// ha_chassis_group(name, chassis=, external_ids=)
func haChassisGroupBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name        interp.Name
		chassis     *starlark.Dict
		externalIDs interp.StringMap
	)
	if err := c.Unpack(1, "name", &name, "chassis", &chassis, "external_ids?", &externalIDs); err != nil {
		return nil, err
	}
	if chassis.Len() == 0 {
		return nil, c.Errorf("chassis: want at least one chassis: priority entry (a group without chassis is a gateway nowhere)")
	}
	g := newRow(tableHAChassisGroup, string(name), map[string]any{"external_ids": externalIDs})
	if err := c.Add(g); err != nil {
		return nil, err
	}
	h := &HAChassisGroup{handle: handle{"ha_chassis_group", string(name)}, a: g, chassis: map[string]int{}}
	for _, kv := range chassis.Items() {
		v, label, err := chassisValue(c, "chassis", kv[0])
		if err != nil {
			return nil, err
		}
		if _, dup := h.chassis[label]; dup {
			return nil, c.Errorf("chassis: %s is given twice", label)
		}
		p, err := starlark.AsInt32(kv[1])
		if err != nil {
			return nil, c.Errorf("chassis[%s]: got %s, want a priority (int)", label, kv[1].Type())
		}
		if p < 0 || p > 32767 {
			return nil, c.Errorf("chassis[%s]: priority %d: want 0 to 32767", label, p)
		}
		h.chassis[label] = int(p)
		a := newRow(tableHAChassis, string(name)+"/"+label, map[string]any{"chassis_name": v, "priority": p}, g.M.ID)
		a.link(groupHAChassis, string(name))
		if err := c.Add(a); err != nil {
			return nil, err
		}
	}
	haGroups(c)[string(name)] = h
	return h, nil
}

// setHAChassisGroup sets the ha_chassis_group column of r, a router or
// switch port, to the group v (a group or its name).
func setHAChassisGroup(c *interp.Call, r *Row, v starlark.Value) error {
	g, err := ref(c, "ha_chassis_group", "HA chassis group", v, haGroups(c))
	if err != nil {
		return err
	}
	r.Cols["ha_chassis_group"] = rowRef{g.a.M.ID}
	r.M.DependsOn = append(r.M.DependsOn, g.a.M.ID)
	return nil
}

// refuseGatewayChassis fails the evaluation when the router port named
// port, which has an HA chassis group, also gets gateway_chassis(), in any
// order: ovn-northd then uses the group and ignores the gateway chassis
// (with a warning in its log only).
func refuseGatewayChassis(c *interp.Call, port string) {
	c.AtEnd(func() error {
		for _, s := range c.Ev.Plan().Steps {
			for _, a := range s.Actions {
				if r, ok := a.(*Row); ok && r.T == tableGatewayChassis && r.parent(portGatewayChassis) == port {
					return fmt.Errorf("router port %s has ha_chassis_group= and gateway_chassis() at %s: ovn-northd uses the group and ignores the gateway chassis; give one of them", port, r.M.Pos())
				}
			}
		}
		return nil
	})
}
