package ovn

import "github.com/ovnrun/ovnrun/interp"

// Each action below is one Northbound row (or, for a router's peer port, a
// row declared on its behalf). Fields use NB column names so the plan reads
// like the database; references to other rows show the referenced action ID.

// Kinds, named after NB tables.
const (
	KindSwitch         = "logical_switch"
	KindSwitchPort     = "logical_switch_port"
	KindRouter         = "logical_router"
	KindRouterPort     = "logical_router_port"
	KindDHCPOptions    = "dhcp_options"
	KindGatewayChassis = "gateway_chassis"
	KindNAT            = "nat"
	KindStaticRoute    = "logical_router_static_route"
)

// driverName is the Meta.Driver of every NB action.
const driverName = "nb"

func meta(kind, name string, deps ...string) interp.ActionMeta {
	return interp.ActionMeta{M: interp.Meta{Kind: kind, Name: name, Driver: driverName, DependsOn: deps}}
}

// LogicalSwitch is a Logical_Switch row.
type LogicalSwitch struct {
	interp.ActionMeta
	OtherConfig map[string]string
	ExternalIDs map[string]string
}

func (a *LogicalSwitch) Fields() []interp.Field {
	return []interp.Field{
		interp.F("other_config", a.OtherConfig),
		interp.F("external_ids", a.ExternalIDs),
	}
}

// LogicalSwitchPort is a Logical_Switch_Port row and its membership in the
// switch's ports column.
type LogicalSwitchPort struct {
	interp.ActionMeta
	Switch        string // switch name
	Type          string
	Addresses     []string
	Options       map[string]string
	DHCPv4Options string // ID of a DHCPOptions action, or ""
	DHCPv6Options string
	PortSecurity  []string
	Enabled       *bool
	TagRequest    int // 0: unset
}

func (a *LogicalSwitchPort) Fields() []interp.Field {
	fs := []interp.Field{
		interp.F("switch", a.Switch),
		interp.F("type", a.Type),
		interp.F("addresses", a.Addresses),
		interp.F("options", a.Options),
		interp.F("dhcpv4_options", a.DHCPv4Options),
		interp.F("dhcpv6_options", a.DHCPv6Options),
		interp.F("port_security", a.PortSecurity),
	}
	if a.Enabled != nil {
		fs = append(fs, interp.F("enabled", *a.Enabled))
	}
	if a.TagRequest != 0 {
		fs = append(fs, interp.F("tag_request", a.TagRequest))
	}
	return fs
}

// LogicalRouter is a Logical_Router row.
type LogicalRouter struct {
	interp.ActionMeta
	// Options may hold a future (options:chassis of a gateway router whose
	// host's chassis name is read at apply time), hence ChassisOption.
	Options       map[string]string
	ChassisOption any // string or *interp.Future; nil when not a gateway router
}

func (a *LogicalRouter) Fields() []interp.Field {
	return []interp.Field{
		interp.F("options", a.Options),
		interp.F("options:chassis", a.ChassisOption),
	}
}

// LogicalRouterPort is a Logical_Router_Port row and its membership in the
// router's ports column.
type LogicalRouterPort struct {
	interp.ActionMeta
	Router   string
	MAC      interp.MAC
	Networks []string
}

func (a *LogicalRouterPort) Fields() []interp.Field {
	return []interp.Field{
		interp.F("router", a.Router),
		interp.F("mac", a.MAC),
		interp.F("networks", a.Networks),
	}
}

// DHCPOptions is a DHCP_Options row. It has no name in NB: ovnrun finds its
// own rows by the ownership tag in external_ids.
type DHCPOptions struct {
	interp.ActionMeta
	CIDR    interp.CIDR
	Options map[string]string
}

func (a *DHCPOptions) Fields() []interp.Field {
	return []interp.Field{
		interp.F("cidr", a.CIDR),
		interp.F("options", a.Options),
	}
}

// GatewayChassis is a Gateway_Chassis row referenced by a router port's
// gateway_chassis column: it makes the port a distributed gateway port.
type GatewayChassis struct {
	interp.ActionMeta
	RouterPort  string
	ChassisName any // string or *interp.Future
	Priority    int
}

func (a *GatewayChassis) Fields() []interp.Field {
	return []interp.Field{
		interp.F("router_port", a.RouterPort),
		interp.F("chassis_name", a.ChassisName),
		interp.F("priority", a.Priority),
	}
}

// NAT is a NAT row referenced by a router's nat column.
type NAT struct {
	interp.ActionMeta
	Router      string
	Type        string
	ExternalIP  string
	LogicalIP   string
	LogicalPort string
	ExternalMAC interp.MAC
}

func (a *NAT) Fields() []interp.Field {
	return []interp.Field{
		interp.F("router", a.Router),
		interp.F("type", a.Type),
		interp.F("external_ip", a.ExternalIP),
		interp.F("logical_ip", a.LogicalIP),
		interp.F("logical_port", a.LogicalPort),
		interp.F("external_mac", a.ExternalMAC),
	}
}

// StaticRoute is a Logical_Router_Static_Route row referenced by a router's
// static_routes column.
type StaticRoute struct {
	interp.ActionMeta
	Router     string
	IPPrefix   interp.CIDR
	Nexthop    interp.IP
	OutputPort string
}

func (a *StaticRoute) Fields() []interp.Field {
	return []interp.Field{
		interp.F("router", a.Router),
		interp.F("ip_prefix", a.IPPrefix),
		interp.F("nexthop", a.Nexthop),
		interp.F("output_port", a.OutputPort),
	}
}
