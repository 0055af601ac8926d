package convert

import (
	"encoding/xml"
	"strings"
)

// Parsing of the recorded command lines the mapping understands. Each
// returns ok=false for a form it does not know, which becomes a TODO.

// vsctlCommands splits an ovs-vsctl argv (without its name) into its
// commands, dropping global options (--no-wait, --timeout=N, --may-exist
// stays with its command).
func vsctlCommands(args []string) [][]string {
	var cmds [][]string
	var cur []string
	for _, a := range args {
		if a == "--" {
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = nil
			continue
		}
		if len(cur) == 0 && strings.HasPrefix(a, "-") && a != "--may-exist" && a != "--if-exists" {
			continue
		}
		cur = append(cur, a)
	}
	if len(cur) > 0 {
		cmds = append(cmds, cur)
	}
	return cmds
}

// optionsSet parses `set Open_vSwitch . external_ids:K=V ...` into its
// keys and values.
func openVSwitchIDs(cmd []string) (ids [][2]string, ok bool) {
	if len(cmd) < 4 || cmd[0] != "set" || !strings.HasPrefix(strings.ToLower(cmd[1]), "open") || cmd[2] != "." {
		return nil, false
	}
	for _, a := range cmd[3:] {
		k, v, ok := externalID(a)
		if !ok {
			return nil, false
		}
		ids = append(ids, [2]string{k, v})
	}
	return ids, true
}

// externalID parses external_ids:KEY=VALUE (or external-ids:), with the
// value's quotes removed.
func externalID(a string) (key, value string, ok bool) {
	col, kv, found := strings.Cut(a, ":")
	if !found || (col != "external_ids" && col != "external-ids") {
		return "", "", false
	}
	key, value, found = strings.Cut(kv, "=")
	if !found || key == "" {
		return "", "", false
	}
	return strings.Trim(key, `"`), strings.Trim(value, `"`), true
}

// ifaceID parses `set interface DEV external_ids:iface-id=ID`.
func ifaceID(cmd []string) (dev, id string, ok bool) {
	if len(cmd) != 4 || cmd[0] != "set" || !strings.EqualFold(cmd[1], "interface") {
		return "", "", false
	}
	k, v, ok := externalID(cmd[3])
	if !ok || k != "iface-id" {
		return "", "", false
	}
	return cmd[2], v, true
}

// interfaceXML is what attach() needs of a libvirt <interface>.
type interfaceXML struct {
	XMLName xml.Name `xml:"interface"`
	Type    string   `xml:"type,attr"`
	Target  struct {
		Dev string `xml:"dev,attr"`
	} `xml:"target"`
	MAC struct {
		Address string `xml:"address,attr"`
	} `xml:"mac"`
	Source struct {
		Bridge string `xml:"bridge,attr"`
	} `xml:"source"`
	VirtualPort struct {
		Type string `xml:"type,attr"`
	} `xml:"virtualport"`
}

// ovsInterface parses an interface XML that plugs into an OVS bridge.
func ovsInterface(text string) (interfaceXML, bool) {
	var x interfaceXML
	if err := xml.Unmarshal([]byte(text), &x); err != nil {
		return x, false
	}
	return x, x.Type == "bridge" && x.VirtualPort.Type == "openvswitch" && x.Source.Bridge != "" && x.Target.Dev != ""
}

// flags parses long options of a command like virt-install: --name v1,
// --vcpus=2; a flag without a value maps to "".
func flags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, value, eq := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !eq && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			value = args[i+1]
			i++
		}
		out[name] = value
	}
	return out
}

// subOptions parses "path=/x,device=disk,bus=virtio" (a virt-install value).
func subOptions(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(part, "=")
		out[k] = v
	}
	return out
}

// wgetTarget returns the URL and the -O file of a wget command line.
func wgetTarget(args []string) (url, file string, ok bool) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-O" && i+1 < len(args):
			file = args[i+1]
			i++
		case strings.HasPrefix(a, "--output-document="):
			file = strings.TrimPrefix(a, "--output-document=")
		case strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://"):
			url = a
		}
	}
	return url, file, url != "" && file != ""
}

// ipRoute parses `ip route add PREFIX via GW [dev DEV]`.
func ipRoute(args []string) (prefix, via, dev string, ok bool) {
	if len(args) < 5 || args[0] != "route" || (args[1] != "add" && args[1] != "replace") {
		return "", "", "", false
	}
	prefix = args[2]
	rest := args[3:]
	for i := 0; i+1 < len(rest); i += 2 {
		switch rest[i] {
		case "via":
			via = rest[i+1]
		case "dev":
			dev = rest[i+1]
		default:
			return "", "", "", false
		}
	}
	return prefix, via, dev, via != "" && len(rest)%2 == 0
}

// ipAddr parses `ip addr add ADDRESS dev DEV`.
func ipAddr(args []string) (addr, dev string, ok bool) {
	if len(args) != 5 || (args[0] != "addr" && args[0] != "address" && args[0] != "a") || args[1] != "add" || args[3] != "dev" {
		return "", "", false
	}
	return args[2], args[4], true
}

// serviceVerb maps systemctl VERB UNIT... and service UNIT VERB to the
// units and service()'s state.
func serviceVerb(argv []string) (units []string, state string, ok bool) {
	var verb string
	switch {
	case argv[0] == "systemctl" && len(argv) >= 3:
		verb, units = argv[1], argv[2:]
	case argv[0] == "service" && len(argv) == 3:
		verb, units = argv[2], argv[1:2]
	default:
		return nil, "", false
	}
	state, ok = map[string]string{"start": "started", "restart": "restarted", "stop": "stopped"}[verb]
	for _, u := range units {
		if strings.HasPrefix(u, "-") {
			return nil, "", false
		}
	}
	return units, state, ok
}
