package host

import "fmt"

// The documentation `ovnrun doc` prints for each builtin.

const hostDoc = `Declares a machine of the lab (a hypervisor, the OVN central node, an outside test host) and
returns its handle; every other builtin that works on a machine takes this handle or the host's name.
ovnrun reaches it over SSH as user (default root) at address:port (default 22), an IP address or DNS
name, authenticating with identity_file (an absolute or ~/ path) or the SSH agent; local=True instead
runs everything on this machine, and then address, user, port and identity_file must not be given.
The address is also the Host looked up in ~/.ssh/config (or --ssh-config): its HostName, IdentityFile
and ProxyJump apply, and its User and Port unless user= or port= is given (docs/hosts.md).
become=True runs the host's commands as root through sudo when the login user is not root;
become_password_env names the environment variable holding sudo's password, which ovnrun writes only
to sudo when it asks and never prints, logs or journals (without it, sudo must not ask: NOPASSWD).
system_id is the host's OVN chassis name (Open_vSwitch external_ids:system-id); when omitted, the plan
shows the chassis as (known after apply) and ovnrun reads it from the host. Two hosts may not share a
name, an address and port, or a system_id, and only one may be local. Declaring a host changes nothing
on it; the plan lists it in its header.`

const shDoc = `Runs a shell command on host, like a line of the seed runbook (yum -y install libvirt). cmd is
either a string, passed verbatim to sh -c (pipes, redirections and variables work), or a list of
strings, an argv whose elements are each quoted for the shell, so names with spaces, quotes or ';' stay
one argument. A command runs on every apply unless guarded: creates="/path" skips it when that path
exists on the host; unless=cmd (a string or argv) skips it when that command succeeds. The plan shows
the command as the host's shell will see it, and the guard as a note. The action's ID is
sh/<host>/<name>: name= gives it a stable name (letters, digits, '.', '_', '-', not only digits);
otherwise unnamed commands are numbered 1, 2, ... per host in declaration order, so inserting a command
renumbers the later ones; name the commands you resume from.`

const serviceDoc = `Puts the systemd unit name on host in state: "started" (the default: started if not running,
like systemctl start openvswitch), "stopped", or "restarted" (systemctl restart on every apply, as the
seed does for ovn-controller after changing its external_ids). The unit name may omit its .service
suffix. A unit can be declared once per host in a state, and once more as restarted, so a runbook can
start ovn-controller and restart it later; the plan shows unit and state, and a restart as a command
that will run.`

const externalIDsDoc = `Sets keys of the external_ids column of host's Open_vSwitch table, as
ovs-vsctl set Open_vSwitch . external-ids:KEY=VALUE does, leaving other keys alone. ids is a dict;
values may be strings, ints or bools. The keys ovn-controller reads are checked: ovn-remote (comma-
separated tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH), ovn-encap-type (geneve, vxlan, stt, comma-
separated), ovn-encap-ip (an IP address, or several comma-separated), system-id (must equal the host's
system_id when it declares one), hostname, ovn-bridge-mappings (network:bridge,...), ovn-bridge,
ovn-bridge-datapath-type (system or netdev), and the other ovn-controller(8) keys; an unknown key
starting with "ovn-" is refused as a likely typo, other keys are passed through. Each key of a host is
set by one call only, so two calls can never fight over a value. The plan shows the keys set.`

const bridgeMappingsDoc = `Maps physical network names to OVS bridges on host by setting
external_ids:ovn-bridge-mappings, as ovs-vsctl set Open_vSwitch . external-ids:ovn-bridge-mappings=
outNet:br-out does in the seed. mappings is a dict of network name (the network_name option of a
localnet port) to a bridge handle returned by bridge() on the same host, or a bridge name. The mapping
is applied after the bridges it names, and counts as setting ovn-bridge-mappings for
ovs_external_ids().`

const bridgeDoc = `Declares an OVS bridge called name on host holding ports, the host's interfaces to plug in (like
ovs-vsctl add-br br-out; ovs-vsctl add-port br-out ens2f1), and returns a bridge handle with attributes
name, host and ports for bridge_mappings(). Bridge and port names are Linux interface names: 1 to 15
bytes, no '/', ':' or whitespace. An interface can be a port of one bridge only. datapath_type selects
the datapath: "system" (the kernel) or "netdev" (userspace, as emulated labs use); unset keeps the OVS
default. The plan shows the bridge, its ports and datapath type.`

func connectionDoc(db string) string {
	tool, port := "ovn-nbctl", "6641"
	name, reader := "Northbound", "the CMS and ovnrun itself"
	if db == "sb" {
		tool, port = "ovn-sbctl", "6642"
		name, reader = "Southbound", "ovn-controller on every chassis"
	}
	return fmt.Sprintf(`Sets the Connection of the OVN %s database served on host, as %s set-connection ptcp:%s
does in the seed, so %s can reach it over the network. target is one remote or a list: passive
ptcp:PORT[:IP], pssl:PORT[:IP] or punix:PATH to listen, or active tcp:HOST:PORT, ssl:HOST:PORT or
unix:PATH to connect out; an IPv6 address is written in brackets. Declare it once per database, on
the host that runs its ovsdb-server. The plan shows the targets; other Connection rows are replaced.
inactivity_probe= sets the rows' inactivity_probe, in ms, as %s --inactivity-probe=MS
set-connection does: how long the server lets a client be silent before it probes it, and drops it
after as long again without an answer; 0 turns the probes off, and unset keeps each row's own
(ovsdb-server's default is 5000). A lab of a hundred chassis on a small machine needs more than
the default: a server that waits for the CPU longer than that drops its clients, and each one that
reconnects is sent the whole database again.`,
		name, tool, port, reader, tool)
}

const ipRouteDoc = `Adds a static route to host's main routing table, as ip route add PREFIX via VIA dev DEV does:
the seed's outside host reaches the VMs' 172.16.2.0/24 through the router's distributed gateway port
with ip_route(outside, "172.16.2.0/24", via="172.16.3.254", dev="ens3f1np1"). prefix is a network in
CIDR form (host bits zero), via a gateway address of the same family, dev an optional interface name.
One route per prefix and host; the plan shows prefix, via and dev.`

const ipAddressDoc = `Puts an address on one of host's interfaces, as ip addr add ADDRESS dev DEV does: the seed's
outside host needs 172.16.3.253/24 on ens3f1np1 before its route to the VMs through the gateway port
(ip_route) has a next hop, so it declares ip_address(outside, "172.16.3.253/24", dev="ens3f1np1").
address is an IPv4 or IPv6 address with its prefix length; dev, an interface name, is required and
given by keyword. Other addresses of the interface are left alone, and an address that is already
there is unchanged. Declare an address once per host and interface; the plan shows address and dev.`
