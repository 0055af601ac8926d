// Package host is the host domain of ovnrun: the Starlark face of the
// machines a lab runs on. It declares hosts (how ovnrun reaches them), shell
// commands, systemd services, the Open_vSwitch table's external_ids that
// configure ovn-controller, OVS bridges, the OVN databases' connections,
// static routes and interface addresses. Builtins only validate their arguments and append typed
// actions to the plan; the drivers that apply them ("host" and "ovs", in
// hosts.go, hostdriver.go, ovsdriver.go and the other *driver.go files) live
// apart.
//
// The builtins import only interp and go.starlark.net (and the standard
// library); the drivers also import internal/remote, internal/ovsdbmodel
// and libovsdb. The actions describe their part of the graph (topo.go,
// importing internal/topo) and name the physical interfaces the lab plugs in
// (interfaces.go, lab.InterfaceUser).
package host

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// Register adds the host domain's builtins to r.
func Register(r *interp.Registry) error {
	return r.RegisterAll(
		interp.Builtin{Name: "host", Signature: `host(name, address=, user="root", port=22, system_id=, identity_file=, local=False, become=False, become_password_env=)`,
			Domain: "host", Doc: hostDoc, Fn: hostBuiltin},
		interp.Builtin{Name: "sh", Signature: "sh(host, cmd, creates=, unless=, name=)",
			Domain: "host", Doc: shDoc, Fn: shBuiltin},
		interp.Builtin{Name: "service", Signature: `service(host, name, state="started")`,
			Domain: "host", Doc: serviceDoc, Fn: serviceBuiltin},
		interp.Builtin{Name: "ovs_external_ids", Signature: "ovs_external_ids(host, ids)",
			Domain: "host", Doc: externalIDsDoc, Fn: externalIDsBuiltin},
		interp.Builtin{Name: "bridge_mappings", Signature: "bridge_mappings(host, mappings)",
			Domain: "host", Doc: bridgeMappingsDoc, Fn: bridgeMappingsBuiltin},
		interp.Builtin{Name: "bridge", Signature: "bridge(host, name, ports=[], datapath_type=)",
			Domain: "host", Doc: bridgeDoc, Fn: bridgeBuiltin},
		interp.Builtin{Name: "nb_connection", Signature: "nb_connection(host, target, inactivity_probe=)",
			Domain: "host", Doc: connectionDoc("nb"), Fn: connectionBuiltin("nb")},
		interp.Builtin{Name: "sb_connection", Signature: "sb_connection(host, target, inactivity_probe=)",
			Domain: "host", Doc: connectionDoc("sb"), Fn: connectionBuiltin("sb")},
		interp.Builtin{Name: "ip_route", Signature: "ip_route(host, prefix, via, dev=)",
			Domain: "host", Doc: ipRouteDoc, Fn: ipRouteBuiltin},
		interp.Builtin{Name: "ip_address", Signature: "ip_address(host, address, dev=)",
			Domain: "host", Doc: ipAddressDoc, Fn: ipAddressBuiltin},
	)
}

// state is what the host domain remembers during one evaluation.
type state struct {
	unnamedSh map[string]int                   // host -> unnamed sh() calls so far
	extIDs    map[string]map[string]interp.Pos // host -> external_ids key -> where it is set
	bridges   map[string]*Bridge               // "host/bridge"
	ports     map[string]*Bridge               // "host/port" -> the bridge holding it
	// declared holds each host as its host() says, before the inventory:
	// conflicts are the runbook's own.
	declared map[string]interp.Host
}

func stateOf(c *interp.Call) *state {
	return c.Ev.Domain("host", func() any {
		return &state{
			unnamedSh: map[string]int{},
			extIDs:    map[string]map[string]interp.Pos{},
			bridges:   map[string]*Bridge{},
			ports:     map[string]*Bridge{},
			declared:  map[string]interp.Host{},
		}
	}).(*state)
}

func hostBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		name     label
		addr     address
		user     string
		port     tcpPort
		systemID interp.Name
		identity string
		local    bool
		become   bool
		becomePW string
	)
	if err := c.Unpack(1, "name", &name, "address?", &addr, "user?", &user, "port?", &port,
		"system_id?", &systemID, "identity_file?", &identity, "local?", &local,
		"become?", &become, "become_password_env?", &becomePW); err != nil {
		return nil, err
	}
	if err := checkBecome(local, become, becomePW); err != nil {
		return nil, c.Errorf("%v", err)
	}
	identityGiven, userSet := identity != "", user != ""
	switch {
	case local && addr != "":
		return nil, c.Errorf("give address= or local=True, not both")
	case !local && addr == "":
		return nil, c.Errorf("host %q needs address= (an IP address or DNS name) or local=True", name)
	case local && (userSet || port != 0 || identityGiven):
		return nil, c.Errorf("user=, port= and identity_file= are for SSH hosts; a local host runs commands as ovnrun's own user")
	}
	if identityGiven && !strings.HasPrefix(identity, "/") && !strings.HasPrefix(identity, "~/") {
		return nil, c.Errorf("identity_file %q: want an absolute path or one starting with ~/", identity)
	}
	if userSet {
		if err := checkLabel(user); err != nil || strings.HasPrefix(user, "-") {
			return nil, c.Errorf("invalid user %q", user)
		}
	}
	h := &interp.Host{Name: string(name), Address: string(addr), Local: local,
		SystemID: string(systemID), IdentityFile: identity, Become: become, BecomePasswordEnv: becomePW}
	if !local {
		h.User, h.Port = "root", 22
		h.DefaultUser, h.DefaultPort = !userSet, port == 0
		if userSet {
			h.User = user
		}
		if port != 0 {
			h.Port = int(port)
		}
	}
	if err := checkHostConflicts(c, h); err != nil {
		return nil, err
	}
	if _, dup := c.Ev.Plan().Hosts[h.Name]; !dup {
		stateOf(c).declared[h.Name] = *h
	}
	applyInventory(c, h)
	if err := c.AddHost(h); err != nil {
		return nil, err
	}
	return h, nil
}

// checkHostConflicts refuses a host that would be the same machine or the
// same chassis as one already declared: a copy-pasted address or system-id
// makes two hosts fight over one OVS database or one Chassis row.
func checkHostConflicts(c *interp.Call, h *interp.Host) error {
	declared := stateOf(c).declared
	for _, p := range c.Ev.Plan().HostList() {
		if p.Name == h.Name {
			continue // AddHost reports the duplicate name
		}
		o := p
		if d, ok := declared[p.Name]; ok {
			o = &d
		}
		switch {
		case h.Local && o.Local:
			return c.Errorf("host %q is local, and so is host %q (declared at %s); only one host can be this machine", h.Name, o.Name, o.Pos)
		case !h.Local && o.Address == h.Address && o.Port == h.Port:
			return c.Errorf("host %q has the address %s:%d of host %q (declared at %s)", h.Name, h.Address, h.Port, o.Name, o.Pos)
		case h.SystemID != "" && o.SystemID == h.SystemID:
			return c.Errorf("host %q has the system_id %q of host %q (declared at %s); chassis names must be unique", h.Name, h.SystemID, o.Name, o.Pos)
		}
	}
	return nil
}

func shBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv          starlark.Value
		cmd, unless Command
		creates     path
		name        label
	)
	if err := c.Unpack(2, "host", &hv, "cmd", &cmd, "creates?", &creates, "unless?", &unless, "name?", &name); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if name != "" && strings.Trim(string(name), "0123456789") == "" {
		return nil, c.Errorf("name %q: names made only of digits are reserved for unnamed commands", name)
	}
	if name == "" {
		st := stateOf(c)
		st.unnamedSh[h.Name]++
		name = label(strconv.Itoa(st.unnamedSh[h.Name]))
	}
	a := &Shell{Cmd: cmd, Creates: string(creates), Unless: unless}
	a.M = interp.Meta{Kind: "sh", Name: h.Name + "/" + string(name), Mode: interp.Command, Driver: "host", Host: h.Name}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func serviceBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv    starlark.Value
		unit  string
		state = "started"
	)
	if err := c.Unpack(2, "host", &hv, "name", &unit, "state?", &state); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if err := checkUnit(unit); err != nil {
		return nil, c.Errorf("%v", err)
	}
	a := &Service{Unit: unit, State: state}
	a.M = interp.Meta{Kind: "service", Name: h.Name + "/" + unit, Driver: "host", Host: h.Name}
	switch state {
	case "started", "stopped":
	case "restarted":
		// A restart is an event, not a state: it runs on every apply, and
		// its own ID lets a runbook start a unit and later restart it.
		a.M.Mode = interp.Command
		a.M.ID = "service/" + a.M.Name + "/restart"
	default:
		return nil, c.Errorf("state %q: want started, restarted or stopped", state)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// checkUnit validates a systemd unit name (systemd.unit(5)); the type
// suffix is optional, as with systemctl.
func checkUnit(s string) error {
	if s == "" || len(s) > 255 || s[0] == '-' {
		return fmt.Errorf("invalid unit name %q", s)
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune(`:_.\@-`, r) {
			return fmt.Errorf("invalid unit name %q: only letters, digits and :_.\\@- are allowed", s)
		}
	}
	return nil
}

func externalIDsBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv  starlark.Value
		ids interp.StringMap
	)
	if err := c.Unpack(2, "host", &hv, "ids", &ids); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, c.Errorf("ids is empty")
	}
	if err := setExternalIDs(c, h, ids); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// setExternalIDs validates ids, claims their keys for this call on host h
// and adds the ovs_external_ids action, applied after the bridges it names.
func setExternalIDs(c *interp.Call, h *interp.Host, ids interp.StringMap) error {
	keys := ids.Keys()
	for _, k := range keys {
		if err := checkExternalID(k, ids[k]); err != nil {
			return c.Errorf("%v", err)
		}
	}
	if sid, ok := ids["system-id"]; ok && h.SystemID != "" && sid != h.SystemID {
		return c.Errorf("system-id %q contradicts host %q's system_id %q (declared at %s)", sid, h.Name, h.SystemID, h.Pos)
	}
	st := stateOf(c)
	owned := st.extIDs[h.Name]
	if owned == nil {
		owned = map[string]interp.Pos{}
		st.extIDs[h.Name] = owned
	}
	for _, k := range keys {
		if pos, ok := owned[k]; ok {
			return c.Errorf("external_ids:%s of host %q is already set at %s", k, h.Name, pos)
		}
	}
	for _, k := range keys {
		owned[k] = c.Pos()
	}
	a := &ExternalIDs{IDs: map[string]string(ids)}
	// Keys have one owner per host, so the first key names the call stably.
	a.M = interp.Meta{Kind: "ovs_external_ids", Name: h.Name, Driver: "ovs", Host: h.Name,
		ID: "ovs_external_ids/" + h.Name + "/" + keys[0], DependsOn: st.bridgeDeps(h, ids)}
	return c.Add(a)
}

// bridgeDeps returns the IDs of the declared bridges of host h that ids
// name in ovn-bridge and ovn-bridge-mappings (ids are already validated).
func (st *state) bridgeDeps(h *interp.Host, ids interp.StringMap) []string {
	var names, deps []string
	if br, ok := ids["ovn-bridge"]; ok {
		names = append(names, br)
	}
	if m, ok := ids["ovn-bridge-mappings"]; ok {
		for _, pair := range strings.Split(m, ",") {
			_, br, _ := strings.Cut(pair, ":")
			names = append(names, br)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if b, ok := st.bridges[h.Name+"/"+n]; ok && !seen[b.ID] {
			seen[b.ID] = true
			deps = append(deps, b.ID)
		}
	}
	return deps
}

func bridgeMappingsBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv       starlark.Value
		mappings *starlark.Dict
	)
	if err := c.Unpack(2, "host", &hv, "mappings", &mappings); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if mappings.Len() == 0 {
		return nil, c.Errorf("mappings is empty")
	}
	var parts []string
	for _, item := range mappings.Items() {
		network, ok := starlark.AsString(item[0])
		if !ok || network == "" || strings.ContainsAny(network, ":, \t") {
			return nil, c.Errorf("network %s: want a physical network name (no ':', ',' or spaces)", item[0])
		}
		var br string
		switch v := item[1].(type) {
		case *Bridge:
			if v.Host != h {
				return nil, c.Errorf("network %q: bridge %q is on host %q, not %q", network, v.Name, v.Host.Name, h.Name)
			}
			br = v.Name
		case starlark.String:
			br = string(v)
		default:
			return nil, c.Errorf("network %q: got %s, want bridge or bridge name", network, item[1].Type())
		}
		parts = append(parts, network+":"+br)
	}
	ids := interp.StringMap{"ovn-bridge-mappings": strings.Join(parts, ",")}
	if err := setExternalIDs(c, h, ids); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func bridgeBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv     starlark.Value
		name   interp.IfName
		ports  interp.StringList
		dpType string
	)
	if err := c.Unpack(2, "host", &hv, "name", &name, "ports?", &ports, "datapath_type?", &dpType); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if dpType != "" {
		if err := checkDatapathType(dpType); err != nil {
			return nil, c.Errorf("%v", err)
		}
	}
	st := stateOf(c)
	key := h.Name + "/" + string(name)
	if old, ok := st.bridges[key]; ok {
		a, _ := c.Ev.Plan().Action(old.ID)
		return nil, c.Errorf("bridge %q on host %q is already declared at %s", name, h.Name, a.Meta().Pos())
	}
	seen := map[string]bool{}
	for _, p := range ports {
		if err := interp.CheckIfName(p); err != nil {
			return nil, c.Errorf("ports: %v", err)
		}
		if p == string(name) || seen[p] {
			return nil, c.Errorf("ports: %q is listed twice (or is the bridge itself)", p)
		}
		if b, ok := st.ports[h.Name+"/"+p]; ok {
			return nil, c.Errorf("ports: %q on host %q is already a port of bridge %q", p, h.Name, b.Name)
		}
		seen[p] = true
	}
	a := &OVSBridge{Bridge: string(name), Ports: []string(ports), DatapathType: dpType}
	a.M = interp.Meta{Kind: "ovs_bridge", Name: key, Driver: "ovs", Host: h.Name}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	b := &Bridge{Name: string(name), Host: h, Ports: a.Ports, ID: a.M.ID}
	st.bridges[key] = b
	for _, p := range ports {
		st.ports[h.Name+"/"+p] = b
	}
	return b, nil
}

func connectionBuiltin(db string) interp.BuiltinFunc {
	return func(c *interp.Call) (starlark.Value, error) {
		var (
			hv      starlark.Value
			targets interp.StringList
			probe   starlark.Value = starlark.None
		)
		if err := c.Unpack(2, "host", &hv, "target", &targets, "inactivity_probe?", &probe); err != nil {
			return nil, err
		}
		h, err := c.HostArg("host", hv)
		if err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return nil, c.Errorf("no target given")
		}
		seen := map[string]bool{}
		for _, t := range targets {
			if err := interp.CheckRemote(t, true); err != nil {
				return nil, c.Errorf("%v", err)
			}
			if seen[t] {
				return nil, c.Errorf("target %q is listed twice", t)
			}
			seen[t] = true
		}
		a := &DBConnection{DB: db, Targets: []string(targets)}
		if probe != starlark.None {
			ms, err := starlark.AsInt32(probe)
			// ovsdb-server raises a probe under a second to one.
			if err != nil || (ms != 0 && ms < 1000) {
				return nil, c.Errorf("inactivity_probe: got %s, want 0 (no probes) or at least 1000 (ms)", probe)
			}
			a.InactivityProbe = &ms
		}
		a.M = interp.Meta{Kind: "ovn_" + db + "_connection", Name: h.Name, Driver: "host", Host: h.Name}
		if err := c.Add(a); err != nil {
			return nil, err
		}
		return starlark.None, nil
	}
}

func ipRouteBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hv     starlark.Value
		prefix interp.CIDR
		via    interp.IP
		dev    interp.IfName
	)
	if err := c.Unpack(3, "host", &hv, "prefix", &prefix, "via", &via, "dev?", &dev); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hv)
	if err != nil {
		return nil, err
	}
	if prefix.Is4() != via.Is4() {
		return nil, c.Errorf("via %s and prefix %s are of different address families", via, prefix)
	}
	a := &Route{Prefix: prefix, Via: via, Dev: string(dev)}
	a.M = interp.Meta{Kind: "ip_route", Name: h.Name + "/" + prefix.String(), Driver: "host", Host: h.Name}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
