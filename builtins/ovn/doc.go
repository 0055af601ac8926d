// Package ovn is the OVN Northbound domain of ovnrun: the builtins that
// declare logical switches, ports, routers, DHCP options, gateway chassis,
// NAT and routes (the Starlark face, in builtins.go and its siblings), the
// typed actions they put in the plan (actions.go), and, in later files, the
// driver that applies those actions to a Northbound database.
//
// It imports interp and go.starlark.net; the driver adds libovsdb. It never
// imports another domain package: hosts reach it as *interp.Host.
package ovn
