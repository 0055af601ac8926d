package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// insert sends the workload as one transaction of hand-built insert
// operations, a port's row referenced from its switch by named UUID: the
// least a libovsdb client can send for these rows (no wait guards, no
// reflection over models).
func insert(ctx context.Context, c client.Client, w *workload) (string, error) {
	start := time.Now()
	ops := make([]ovsdb.Operation, 0, len(w.switches)+len(w.ports))
	named := make(map[string]string, len(w.ports)) // port name -> named UUID
	for i, p := range w.ports {
		id := fmt.Sprintf("lsp%d", i)
		named[p.Name] = id
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch_Port", UUIDName: id,
			Row: ovsdb.Row{"name": p.Name, "addresses": set(p.Addresses...), "external_ids": strMap(p.ExternalIDs)}})
	}
	for _, sw := range w.switches {
		ports := make([]any, len(sw.Ports))
		for i, name := range sw.Ports {
			ports[i] = ovsdb.UUID{GoUUID: named[name]}
		}
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Logical_Switch",
			Row: ovsdb.Row{"name": sw.Name, "other_config": strMap(sw.OtherConfig),
				"external_ids": strMap(sw.ExternalIDs), "ports": ovsdb.OvsSet{GoSet: ports}}})
	}
	built := time.Since(start)
	start = time.Now()
	results, err := c.Transact(ctx, ops...)
	if err != nil {
		return "", err
	}
	if _, err := ovsdb.CheckOperationResults(results, ops); err != nil {
		return "", err
	}
	return fmt.Sprintf("inserted %d rows in 1 transaction of %d operations; build %s, transact %s",
		len(ops), len(ops), ms(built), ms(time.Since(start))), nil
}

func set(members ...string) ovsdb.OvsSet {
	s := ovsdb.OvsSet{GoSet: make([]any, len(members))}
	for i, m := range members {
		s.GoSet[i] = m
	}
	return s
}

func strMap(m map[string]string) ovsdb.OvsMap {
	om := ovsdb.OvsMap{GoMap: make(map[any]any, len(m))}
	for k, v := range m {
		om.GoMap[k] = v
	}
	return om
}
