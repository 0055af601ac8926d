package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnrun/ovnrun/cmd/nbfloor/nbmodel"
)

// readDiff reads the NB the way a libovsdb program does (a monitor filling
// the client's cache with typed models) and compares it with the workload:
// every switch and port present with the columns ovnrun manages as desired,
// and no other row carrying this runbook's tag. It fails unless nothing
// differs.
func readDiff(ctx context.Context, c client.Client, w *workload) (string, error) {
	start := time.Now()
	if _, err := c.Monitor(ctx, c.NewMonitor(monitored()...)); err != nil {
		return "", fmt.Errorf("monitor: %w", err)
	}
	read := time.Since(start)
	start = time.Now()
	diffs, err := diff(ctx, c, w)
	if err != nil {
		return "", err
	}
	if len(diffs) > 0 {
		return "", fmt.Errorf("%d differences, the first: %s", len(diffs), diffs[0])
	}
	return fmt.Sprintf("no change: %d switches and %d ports as desired; monitor (initial dump into the cache) %s, list and diff %s",
		len(w.switches), len(w.ports), ms(read), ms(time.Since(start))), nil
}

// monitored lists, for libovsdb's monitor, the tables and columns ovnrun's
// NB driver reads (builtins/ovn monitored()): every column of nbmodel.
func monitored() []client.MonitorOption {
	ls, lsp := &nbmodel.LogicalSwitch{}, &nbmodel.LogicalSwitchPort{}
	lr, lrp := &nbmodel.LogicalRouter{}, &nbmodel.LogicalRouterPort{}
	route, nat := &nbmodel.LogicalRouterStaticRoute{}, &nbmodel.NAT{}
	dhcp, gw, global := &nbmodel.DHCPOptions{}, &nbmodel.GatewayChassis{}, &nbmodel.NBGlobal{}
	return []client.MonitorOption{
		client.WithTable(ls, &ls.Name, &ls.OtherConfig, &ls.ExternalIDs, &ls.Ports),
		client.WithTable(lsp, &lsp.Name, &lsp.Type, &lsp.Addresses, &lsp.Options, &lsp.Dhcpv4Options, &lsp.Dhcpv6Options,
			&lsp.PortSecurity, &lsp.Enabled, &lsp.TagRequest, &lsp.ExternalIDs, &lsp.DynamicAddresses),
		client.WithTable(lr, &lr.Name, &lr.Options, &lr.ExternalIDs, &lr.Ports, &lr.Nat, &lr.StaticRoutes),
		client.WithTable(lrp, &lrp.Name, &lrp.MAC, &lrp.Networks, &lrp.ExternalIDs, &lrp.Peer, &lrp.GatewayChassis),
		client.WithTable(route, &route.IPPrefix, &route.Nexthop, &route.OutputPort, &route.ExternalIDs),
		client.WithTable(nat, &nat.Type, &nat.ExternalIP, &nat.LogicalIP, &nat.LogicalPort, &nat.ExternalMAC, &nat.ExternalIDs),
		client.WithTable(dhcp, &dhcp.Cidr, &dhcp.Options, &dhcp.ExternalIDs),
		client.WithTable(gw, &gw.Name, &gw.ChassisName, &gw.Priority, &gw.ExternalIDs),
		client.WithTable(global, &global.NbCfg, &global.SbCfg, &global.HvCfg),
	}
}

// diff returns what would have to change for the NB to hold the workload.
func diff(ctx context.Context, c client.Client, w *workload) ([]string, error) {
	var switches []*nbmodel.LogicalSwitch
	var ports []*nbmodel.LogicalSwitchPort
	if err := c.List(ctx, &switches); err != nil {
		return nil, err
	}
	if err := c.List(ctx, &ports); err != nil {
		return nil, err
	}
	var diffs []string
	livePort := make(map[string]*nbmodel.LogicalSwitchPort, len(ports))
	portName := make(map[string]string, len(ports))
	for _, p := range ports {
		livePort[p.Name], portName[p.UUID] = p, p.Name
	}
	for i := range w.ports {
		want := &w.ports[i]
		live := livePort[want.Name]
		switch {
		case live == nil:
			diffs = append(diffs, "create port "+want.Name)
		case !samePort(live, want):
			diffs = append(diffs, "update port "+want.Name)
		}
		delete(livePort, want.Name)
	}
	liveSwitch := make(map[string]*nbmodel.LogicalSwitch, len(switches))
	for _, s := range switches {
		liveSwitch[s.Name] = s
	}
	for i := range w.switches {
		want := &w.switches[i]
		live := liveSwitch[want.Name]
		switch {
		case live == nil:
			diffs = append(diffs, "create switch "+want.Name)
		case !sameSwitch(live, want, portName):
			diffs = append(diffs, "update switch "+want.Name)
		}
		delete(liveSwitch, want.Name)
	}
	// What is left and carries this runbook's tag is stale: ovnrun would
	// delete it. The same holds in the tables the workload has no row in.
	var stale []string
	for _, s := range liveSwitch {
		if s.ExternalIDs[tagRunbook] == w.owner {
			stale = append(stale, "delete switch "+s.Name)
		}
	}
	for _, p := range livePort {
		if p.ExternalIDs[tagRunbook] == w.owner {
			stale = append(stale, "delete port "+p.Name)
		}
	}
	others, err := owned(ctx, c, w.owner)
	stale = append(stale, others...)
	slices.Sort(stale)
	return append(diffs, stale...), err
}

func samePort(live, want *nbmodel.LogicalSwitchPort) bool {
	return live.Type == want.Type && slices.Equal(sorted(live.Addresses), sorted(want.Addresses)) &&
		maps.Equal(live.Options, want.Options) && same(live.Dhcpv4Options, want.Dhcpv4Options) &&
		same(live.Dhcpv6Options, want.Dhcpv6Options) && slices.Equal(sorted(live.PortSecurity), sorted(want.PortSecurity)) &&
		same(live.Enabled, want.Enabled) && same(live.TagRequest, want.TagRequest) && maps.Equal(live.ExternalIDs, want.ExternalIDs)
}

func sameSwitch(live, want *nbmodel.LogicalSwitch, portName map[string]string) bool {
	if !maps.Equal(live.OtherConfig, want.OtherConfig) || !maps.Equal(live.ExternalIDs, want.ExternalIDs) || len(live.Ports) != len(want.Ports) {
		return false
	}
	names := make([]string, len(live.Ports))
	for i, u := range live.Ports {
		names[i] = portName[u]
	}
	return slices.Equal(sorted(names), sorted(want.Ports))
}

func same[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// owned returns a delete for every row of the other monitored tables that
// carries the runbook's tag: the workload has none.
func owned(ctx context.Context, c client.Client, owner string) ([]string, error) {
	var diffs []string
	check := func(table string, list any, rows func() []map[string]string) error {
		if err := c.List(ctx, list); err != nil {
			return err
		}
		for _, ids := range rows() {
			if ids[tagRunbook] == owner {
				diffs = append(diffs, fmt.Sprintf("delete %s %s", table, ids[tagAction]))
			}
		}
		return nil
	}
	var lr []*nbmodel.LogicalRouter
	var lrp []*nbmodel.LogicalRouterPort
	var routes []*nbmodel.LogicalRouterStaticRoute
	var nat []*nbmodel.NAT
	var dhcp []*nbmodel.DHCPOptions
	var gw []*nbmodel.GatewayChassis
	for _, t := range []struct {
		name string
		list any
		ids  func() []map[string]string
	}{
		{"router", &lr, func() []map[string]string { return externalIDs(lr) }},
		{"router port", &lrp, func() []map[string]string { return externalIDs(lrp) }},
		{"route", &routes, func() []map[string]string { return externalIDs(routes) }},
		{"NAT", &nat, func() []map[string]string { return externalIDs(nat) }},
		{"DHCP options", &dhcp, func() []map[string]string { return externalIDs(dhcp) }},
		{"gateway chassis", &gw, func() []map[string]string { return externalIDs(gw) }},
	} {
		if err := check(t.name, t.list, t.ids); err != nil {
			return nil, err
		}
	}
	return diffs, nil
}

type withExternalIDs interface {
	model.Model
	GetExternalIDs() map[string]string
}

func externalIDs[M withExternalIDs](rows []M) []map[string]string {
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		out[i] = r.GetExternalIDs()
	}
	return out
}
