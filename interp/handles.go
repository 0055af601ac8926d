package interp

import "go.starlark.net/starlark"

// Cross-domain handles. A builtin of one domain sometimes takes a value made
// by another (attach() plugs an OVN port into a VM; ping() runs in a VM).
// These interfaces let it do so without domain packages importing each other.

// LogicalPort is implemented by handles of OVN logical switch ports.
type LogicalPort interface {
	starlark.Value
	// PortID is the ID of the action that declares the port.
	PortID() string
	PortName() string
	PortMAC() MAC
	// PortIPv4 is the port's IPv4 address: a string when static, a *Future
	// when dynamic, None when it has none.
	PortIPv4() starlark.Value
}

// Guest is implemented by VM handles.
type Guest interface {
	starlark.Value
	// GuestID is the ID of the action that declares the VM.
	GuestID() string
	GuestName() string
	GuestHost() *Host
}
