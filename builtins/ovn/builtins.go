package ovn

import (
	"slices"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Register adds the OVN Northbound builtins to r: those below, then each
// family's (see family), in the order of their files.
func Register(r *interp.Registry) error {
	return r.RegisterAll(slices.Concat(builtins, families)...)
}

// families are the builtins of table families declared in their own files
// (acl.go, load_balancer.go ...): one file describes a family's tables and
// builtins, and registers them with family.
var families []interp.Builtin

// family registers the builtins of one family; its result is discarded
// (`var _ = family(...)`), which runs it when the package is initialised.
func family(bs ...interp.Builtin) struct{} {
	families = append(families, bs...)
	return struct{}{}
}

var builtins = []interp.Builtin{
	{Domain: "ovn", Name: "ovn_nb", Signature: "ovn_nb(remote, private_key=, certificate=, ca_cert=)", Fn: ovnNBBuiltin,
		Doc: `Sets where the OVN Northbound database is, as ovn-nbctl --db takes it: "tcp:177.1.1.1:6641",
"ssl:HOST:PORT", "unix:PATH", or several comma-separated endpoints of a clustered NB (ovnrun talks to
the leader). --nb on the command line overrides it. Set it once per runbook. An ssl: NB needs the
three PEM files of OVS's PKI (ovs-pki), as ovn-nbctl --private-key, --certificate and --ca-cert take
them: private_key= and certificate= are ovnrun's own (a certificate the NB's CA signed), ca_cert= the
CA certificate that signed the NB's; a relative path is relative to the directory of the file that
calls ovn_nb. --ovn-private-key, --ovn-certificate and --ovn-ca-cert override them (relative to the
working directory). The server's certificate is checked against ca_cert= alone, not against the
host name, as OVS does; a server it did not sign is refused, naming the endpoint.`},
	{Domain: "ovn", Name: "ls", Signature: "ls(name, subnet=, ipv6_prefix=, exclude_ips=, other_config=, external_ids=)", Fn: lsBuiltin,
		Doc: `Declares a Logical_Switch. subnet= (an IPv4 network) and ipv6_prefix= (an IPv6 address such as
2001:db8:1::0) become other_config:subnet and other_config:ipv6_prefix, from which ovn-northd assigns
"dynamic" port addresses; exclude_ips= (addresses or A..B ranges inside subnet) keeps addresses out of
that pool. other_config= and external_ids= add further keys. Returns a switch with attributes name,
subnet, ipv6_prefix and other_config.`},
	{Domain: "ovn", Name: "lsp", Signature: "lsp(switch, name, mac=, ips=, addresses=, type=, options=, parent=, tag=, dhcpv4=, dhcpv6=, port_security=, enabled=, ha_chassis_group=, external_ids=)", Fn: lspBuiltin,
		Doc: `Declares a Logical_Switch_Port named name on switch (a switch or its name). mac= and ips= make the
addresses column: ips="dynamic" gives "MAC dynamic" (northd picks the addresses from the switch's
subnet and ipv6_prefix), a list of addresses gives "MAC IP...", mac= alone gives "MAC"; "unknown" in
ips= adds the entry "unknown" (the port also gets frames for unknown MACs), and mac="router" on a port
of type router gives the addresses "router". addresses= sets the whole column instead, as
ovn-nbctl lsp-set-addresses takes it. type= is a
Logical_Switch_Port type ("" for a VM interface, router, localport, ...; use localnet() for localnet).
dhcpv4= and dhcpv6= take values returned by dhcp() and set dhcpv4_options/dhcpv6_options.
port_security= is a list of "MAC [IP...]" entries; enabled= a bool. parent= (a port or a name) and
tag= (1-4095) make a container port, as ovn-nbctl lsp-add SWITCH NAME PARENT TAG: parent_name and
tag_request. ha_chassis_group= (a group from ha_chassis_group(), or its name) is for type="external"
ports: the active chassis of the group binds the port and answers its DHCP, as ovn-nbctl set
Logical_Switch_Port PORT ha_chassis_group=UUID does. external_ids= adds keys beside ovnrun's own. Returns a port with attributes
name, mac, switch, type, addresses, options, ipv4 and ipv6 (futures when dynamic: known after apply).
The port is what attach() plugs into a VM: its MAC and name become the NIC's MAC and iface-id.`},
	{Domain: "ovn", Name: "localnet", Signature: "localnet(switch, name, network_name=, tag=, options=, external_ids=)", Fn: localnetBuiltin,
		Doc: `Declares a localnet Logical_Switch_Port: type localnet, addresses "unknown", options:network_name
set to network_name, which each chassis maps to a bridge through external_ids:ovn-bridge-mappings
(see ovs_external_ids and bridge_mappings). tag= (1-4095) requests a VLAN (tag_request).`},
	{Domain: "ovn", Name: "lr", Signature: "lr(name, chassis=, options=, external_ids=)", Fn: lrBuiltin,
		Doc: `Declares a Logical_Router. chassis= (a host or a chassis name) sets options:chassis, which makes
it a gateway router pinned to that chassis (the seed's "l3gateway" kind); a host whose chassis name is
not declared is resolved at apply time. options= adds further options. Returns a router with
attributes name and options.`},
	{Domain: "ovn", Name: "lrp", Signature: `lrp(router, name, mac=, networks=, peer=, peer_port=, peer_addresses="mac", options=, ipv6_ra_configs=, gateway_mtu=, ha_chassis_group=, external_ids=)`, Fn: lrpBuiltin,
		Doc: `Declares a Logical_Router_Port on router with mac= and networks= (one or more address/length
values such as "172.16.1.254/24"). peer= (a switch) also declares the matching port on that switch:
type router, addresses set to the router port's MAC, options:router-port set to name, named
"<switch>-<router>" unless peer_port= names it: the four ovn-nbctl commands the seed runs by hand for
each link. peer_addresses="router" gives that port the addresses "router" instead (ovn-nbctl
lsp-set-addresses PORT router): ovn-northd then derives them from the router port, adding the
external_mac of each distributed NAT rule (nat() with logical_port=), which the switch of a
distributed gateway port needs to deliver a floating IP's frames on the VM's own chassis. peer= may
instead be another router's port (declared before): the two ports then name each other in their
peer column, a router-to-router link as ovn-nbctl lrp-add ... PEER makes on each side.
ipv6_ra_configs= (address_mode, mtu, send_periodic ...) and gateway_mtu= (options:gateway_mtu) are
the columns ovn-nbctl lrp-set-options and set Logical_Router_Port write. ha_chassis_group= (a group
from ha_chassis_group(), or its name) makes the port a distributed gateway port on the group's
chassis (ovn-nbctl set Logical_Router_Port PORT ha_chassis_group=UUID); ovn-northd then ignores
gateway_chassis(), so a port may have one or the other, not both. Returns a
router port with attributes name, mac, networks, ip (the first network's address), ips, router and
peer.`},
	{Domain: "ovn", Name: "dhcp", Signature: "dhcp(cidr, key=, external_ids=, **options)", Fn: dhcpBuiltin,
		Doc: `Declares a DHCP_Options row for cidr; the options are keyword arguments and are checked against
what ovn-northd knows for the family of cidr. DHCPv4 needs server_id, server_mac and lease_time (int),
and takes router, dns_server (an address or a list), mtu and the other ovn-nb(5) options. DHCPv6 needs
server_id (a MAC) and takes dns_server, domain_search and dhcpv6_stateless. Pass the result to
lsp(dhcpv4=) or lsp(dhcpv6=). A second row for the same cidr (ovn-nbctl makes as many as asked;
Neutron makes one per port with options of its own) needs key=, a word that tells it apart: the plan
names it CIDR#KEY. external_ids= (a dict) adds keys beside ovnrun's own. ovn-nbctl
dhcp-options-create CIDR and dhcp-options-set-options. Returns a value with attributes cidr, ipv6 and
options.`},
	{Domain: "ovn", Name: "gateway_chassis", Signature: "gateway_chassis(lrp, chassis, priority=0, options=, external_ids=)", Fn: gatewayChassisBuiltin,
		Doc: `Makes lrp (a router port or its name) a distributed gateway port by adding a Gateway_Chassis row
for chassis with priority= (0-32767; the highest live chassis is active), like ovn-nbctl
lrp-set-gateway-chassis. chassis is a host or a host's name: its chassis name is its declared
system_id, else it is read from the host at apply time (no hand-copied chassis UUIDs). A chassis that
is no host of the runbook is named with the keyword: chassis="name" (a positional name that is no
declared host is refused as a likely typo). options= and external_ids= set those columns.`},
	{Domain: "ovn", Name: "nat", Signature: "nat(router, type=, external_ip=, logical_ip=, logical_port=, external_mac=, gateway_port=, options=, external_ids=)", Fn: natBuiltin,
		Doc: `Declares a NAT rule on router. type= is snat, dnat or dnat_and_snat; external_ip= an address;
logical_ip= an address (for snat also a network). For dnat_and_snat, logical_port= (a switch port)
with external_mac= makes the NAT distributed: handled on the chassis where the logical port resides
rather than on the gateway chassis. gateway_port= (a router port of router) picks the distributed
gateway port of a router with several; options= takes stateless, add_route and distributed
(ovn-nbctl lr-nat-add --stateless and --add-route).`},
	{Domain: "ovn", Name: "route", Signature: "route(router, prefix, nexthop, output_port=, bfd=, ecmp=, policy=, route_table=, options=, external_ids=)", Fn: routeBuiltin,
		Doc: `Declares a Logical_Router_Static_Route on router: traffic to prefix (a network) goes to nexthop
(an address of the same family, or "discard"), out of output_port= (a router port of the same router)
if given: ovn-nbctl lr-route-add. policy= is dst-ip (the default) or src-ip; route_table= puts it in
a named route table (ovn-nbctl --route-table); options= takes ecmp_symmetric_reply. A second route to
the same prefix (same route table and policy) needs ecmp=True: the routes are then equal-cost (ovn-nbctl
--ecmp, which writes nothing more to the rows); without it the repetition is refused as a mistake. bfd=True makes the route depend on a BFD session to its nexthop from output_port= (or from the
router's port whose network holds the nexthop), declaring that session unless bfd() or another route
already did (ovn-nbctl lr-route-add --bfd); bfd= also takes a session from bfd(). ovn-northd drops
the route while its session is down.`},
}

// ovn_nb(remote, private_key=, certificate=, ca_cert=)
func ovnNBBuiltin(c *interp.Call) (starlark.Value, error) {
	var remote, key, cert, ca string
	if err := c.Unpack(1, "remote", &remote, "private_key?", &key, "certificate?", &cert, "ca_cert?", &ca); err != nil {
		return nil, err
	}
	if err := interp.CheckRemoteList(remote); err != nil {
		return nil, c.Errorf("%v", err)
	}
	settings := []struct{ key, path string }{{"nb", remote},
		{settingPrivateKey, key}, {settingCertificate, cert}, {settingCACert, ca}}
	// nb first: a second ovn_nb() is refused before it sets anything.
	for i, s := range settings {
		if s.path == "" {
			continue
		}
		v := s.path
		if i > 0 {
			v = c.FilePath(v)
		}
		if err := c.SetSetting(s.key, v); err != nil {
			return nil, err
		}
	}
	return starlark.None, nil
}
