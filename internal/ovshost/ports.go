package ovshost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
)

// PortBridge returns the name of the bridge holding the port name, ""
// when no bridge does.
func (c *Client) PortBridge(ctx context.Context, name string) (string, error) {
	port, err := c.Row(ctx, "Port", name)
	if err != nil || port == nil {
		return "", err
	}
	bridges, err := c.db.List(ctx, "Bridge")
	if err != nil {
		return "", err
	}
	id := ovsdbmodel.UUID(port)
	for _, b := range bridges {
		v, _ := ovsdbmodel.Get(b, "ports")
		ports, _ := v.([]string)
		for _, p := range ports {
			if p == id {
				v, _ := ovsdbmodel.Get(b, "name")
				s, _ := v.(string)
				return s, nil
			}
		}
	}
	return "", nil
}

// AddPort puts the interface name into bridge as a port of its own with
// the external_ids ids, as `ovs-vsctl --may-exist add-port BRIDGE NAME --
// set Interface NAME external_ids:...` does: a port already on bridge only
// gets the ids, one on another bridge is moved. It waits up to wait for the
// bridge to exist (ovn-controller creates br-int a moment after it
// starts), then for ovs-vswitchd to take the port in.
func (c *Client) AddPort(ctx context.Context, bridge, name string, ids map[string]string, wait time.Duration) error {
	br, err := c.WaitRow(ctx, "Bridge", bridge, wait)
	if err != nil {
		return err
	}
	if br == nil {
		return fmt.Errorf("bridge %s does not exist on %s after %s: is Open vSwitch running, and ovn-controller (which creates br-int)?", bridge, c.Host, wait)
	}
	on, err := c.PortBridge(ctx, name)
	if err != nil {
		return err
	}
	if on == bridge {
		return c.SetIfaceExternalIDs(ctx, name, ids, wait)
	}
	var ops []ovsdb.Operation
	if on != "" {
		old, err := c.removeOps(ctx, on, name)
		if err != nil {
			return err
		}
		ops = append(ops, old...)
	}
	idMap := ovsdb.OvsMap{GoMap: map[any]any{}}
	for k, v := range ids {
		idMap.GoMap[k] = v
	}
	ops = append(ops,
		ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Interface", UUIDName: "iface", Row: ovsdb.Row{"name": name, "external_ids": idMap}},
		ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Port", UUIDName: "port",
			Row: ovsdb.Row{"name": name, "interfaces": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "iface"}}}}},
		ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(br)),
			Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: "port"}}}}}})
	return c.commitAndWait(ctx, "port "+name, ops, func() (bool, error) {
		on, err := c.PortBridge(ctx, name)
		return on == bridge, err
	})
}

// DelPort deletes the port name from whichever bridge holds it, as
// `ovs-vsctl --if-exists del-port NAME` does: a port no bridge holds is no
// error.
func (c *Client) DelPort(ctx context.Context, name string) error {
	on, err := c.PortBridge(ctx, name)
	if err != nil || on == "" {
		return err
	}
	ops, err := c.removeOps(ctx, on, name)
	if err != nil || len(ops) == 0 {
		return err
	}
	return c.commitAndWait(ctx, "port "+name, ops, func() (bool, error) {
		r, err := c.Row(ctx, "Port", name)
		return r == nil, err
	})
}

// removeOps returns the operations deleting the port name from bridge.
func (c *Client) removeOps(ctx context.Context, bridge, name string) ([]ovsdb.Operation, error) {
	br, err := c.Row(ctx, "Bridge", bridge)
	if err != nil {
		return nil, err
	}
	port, err := c.Row(ctx, "Port", name)
	if err != nil || br == nil || port == nil {
		return nil, err
	}
	ops := []ovsdb.Operation{{Op: ovsdb.OperationMutate, Table: "Bridge", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(br)),
		Mutations: []ovsdb.Mutation{{Column: "ports", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: ovsdbmodel.UUID(port)}}}}}}}
	v, _ := ovsdbmodel.Get(port, "interfaces")
	ifaces, _ := v.([]string)
	for _, u := range ifaces {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "Interface", Where: ovsdbmodel.WhereUUID(u)})
	}
	return append(ops, ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "Port", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(port))}), nil
}

// commitAndWait sends ops with a request that ovs-vswitchd report when it
// has applied them (next_cfg, as ovs-vsctl without --no-wait), waits until
// the cache shows done, then until ovs-vswitchd reports.
func (c *Client) commitAndWait(ctx context.Context, what string, ops []ovsdb.Operation, done func() (bool, error)) error {
	roots, err := c.db.List(ctx, "Open_vSwitch")
	if err != nil {
		return err
	}
	cfgAt := -1
	if len(roots) > 0 {
		root := ovsdbmodel.WhereUUID(ovsdbmodel.UUID(roots[0]))
		ops = append(ops,
			ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: root,
				Mutations: []ovsdb.Mutation{{Column: "next_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
			ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "Open_vSwitch", Where: root, Columns: []string{"next_cfg"}})
		cfgAt = len(ops) - 1
	}
	res, err := c.Transact(ctx, what, ops...)
	if err != nil {
		return err
	}
	if err := c.settle(ctx, what, done); err != nil {
		return err
	}
	if cfgAt < 0 || len(res[cfgAt].Rows) == 0 {
		return nil
	}
	return c.WaitVswitchd(ctx, res[cfgAt].Rows[0]["next_cfg"])
}

// ErrVswitchdLate says that ovs-vswitchd did not report a change as
// applied within Wait: the database holds the change either way.
var ErrVswitchdLate = errors.New("ovs-vswitchd has not applied the change; is it running?")

// WaitVswitchd waits until ovs-vswitchd reports cur_cfg >= next (a
// next_cfg a transaction selected), up to Wait; ErrVswitchdLate when it
// does not.
func (c *Client) WaitVswitchd(ctx context.Context, next any) error {
	var want int
	switch v := next.(type) {
	case int:
		want = v
	case float64:
		want = int(v)
	default:
		return nil
	}
	err := poll.Until(ctx, Wait, pollEvery, func() (bool, error) {
		roots, err := c.db.List(ctx, "Open_vSwitch")
		return err == nil && len(roots) > 0 && intCol(roots[0], "cur_cfg") >= want, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return ErrVswitchdLate
	}
	return err
}

func intCol(row model.Model, col string) int {
	v, _ := ovsdbmodel.Get(row, col)
	switch v := v.(type) {
	case int:
		return v
	case *int:
		if v != nil {
			return *v
		}
	}
	return 0
}
