// Package ovn is the OVN Northbound domain of ovnrun: the builtins that
// declare logical switches, ports, routers, DHCP options, gateway chassis,
// NAT and routes (the Starlark face: builtins.go, switch.go, router.go,
// dhcp.go), and rows of any other table, typed by an embedded OVN 26.03
// schema (row(): rowbuiltin.go, rowvalue.go, rowschema.go), the typed
// actions they put in the plan (actions.go, row.go), and the
// driver that applies those actions to a Northbound database (nb*.go).
//
// It imports interp, go.starlark.net, libovsdb, internal/ovsdbmodel and
// internal/topo (its actions describe their part of the graph, topo.go; the
// graph of a live NB is read from the driver's table descriptions,
// nbtopo.go). It never imports another domain package: hosts reach it as
// *interp.Host.
package ovn
