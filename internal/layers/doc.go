// Package layers holds no code: its test keeps the import graph pointing one
// way. cmd → builtins/* (the domains) → interp and internal/*. Nothing below
// the domains imports one, and no domain imports another; the graph
// (internal/topo) and the lab's spec (internal/lab) learn what they need
// through interfaces the domains' actions implement (topo.Element,
// lab.InterfaceUser, lab.VMNIC).
//
// The one exception is the lab's VM driver (internal/lab's nsvm*.go): it
// is a driver of the virt domain's actions and imports
// builtins/virt. Moving it into the virt domain (or a lab subpackage above
// the domains) would make the exception go away.
package layers
