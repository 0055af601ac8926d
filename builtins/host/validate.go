package host

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ovnrun/ovnrun/interp"
)

// ovnKeys are the Open_vSwitch external_ids keys ovn-controller reads
// (ovn-controller(8)), each with the check of its value, nil when any text
// is accepted. A key starting with "ovn-" that is not listed is refused: it
// is almost always a typo that ovn-controller would silently ignore.
var ovnKeys = map[string]func(string) error{
	"ovn-remote":                       checkOVNRemote,
	"ovn-encap-type":                   checkEncapTypes,
	"ovn-encap-ip":                     checkIPList,
	"ovn-bridge-mappings":              checkBridgeMappings,
	"ovn-bridge":                       checkIfName,
	"ovn-bridge-datapath-type":         checkDatapathType,
	"ovn-remote-probe-interval":        checkUint,
	"ovn-openflow-probe-interval":      checkUint,
	"ovn-monitor-all":                  checkBool,
	"ovn-encap-csum":                   checkBool,
	"ovn-encap-df_default":             checkBool,
	"ovn-encap-tos":                    nil,
	"ovn-encap-ip-default":             checkIP,
	"ovn-cms-options":                  nil,
	"ovn-transport-zones":              nil,
	"ovn-chassis-mac-mappings":         nil,
	"ovn-is-interconn":                 checkBool,
	"ovn-match-northd-version":         checkBool,
	"ovn-ofctrl-wait-before-clear":     checkUint,
	"ovn-enable-lflow-cache":           checkBool,
	"ovn-limit-lflow-cache":            checkUint,
	"ovn-memlimit-lflow-cache-kb":      checkUint,
	"ovn-trim-limit-lflow-cache":       checkUint,
	"ovn-trim-wmark-perc-lflow-cache":  checkUint,
	"ovn-trim-timeout-ms":              checkUint,
	"ovn-set-local-ip":                 checkBool,
	"ovn-bridge-remote":                checkOVNRemote,
	"ovn-bridge-remote-probe-interval": checkUint,
}

// otherKeys are keys ovn-controller reads that do not start with "ovn-".
var otherKeys = map[string]func(string) error{
	"system-id": interp.CheckName,
	"hostname":  checkHostname,
}

// checkExternalID validates one external_ids key and its value.
func checkExternalID(key, value string) error {
	check, known := ovnKeys[key]
	if !known {
		check, known = otherKeys[key]
	}
	if !known && strings.HasPrefix(key, "ovn-") {
		return fmt.Errorf("unknown OVN key %q; known keys: %s", key, strings.Join(knownKeys(), ", "))
	}
	if check == nil {
		return nil
	}
	if err := check(value); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

func knownKeys() []string {
	keys := interp.StringMap{}
	for k := range ovnKeys {
		keys[k] = ""
	}
	for k := range otherKeys {
		keys[k] = ""
	}
	return keys.Keys()
}

func checkIP(s string) error {
	_, err := interp.ParseIP(s)
	return err
}

// checkIPList accepts one IP address or a comma-separated list (OVN 23.06
// and later take several encapsulation addresses).
func checkIPList(s string) error {
	for _, ip := range strings.Split(s, ",") {
		if err := checkIP(ip); err != nil {
			return err
		}
	}
	return nil
}

func checkEncapTypes(s string) error {
	for _, t := range strings.Split(s, ",") {
		switch t {
		case "geneve", "vxlan", "stt":
		default:
			return fmt.Errorf("encapsulation type %q: want geneve, vxlan or stt", t)
		}
	}
	return nil
}

func checkDatapathType(s string) error {
	if s != "system" && s != "netdev" {
		return fmt.Errorf("datapath type %q: want system or netdev", s)
	}
	return nil
}

func checkBool(s string) error {
	if s != "true" && s != "false" {
		return fmt.Errorf("%q: want true or false", s)
	}
	return nil
}

func checkUint(s string) error {
	if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return fmt.Errorf("%q: want a non-negative integer", s)
	}
	return nil
}

// checkBridgeMappings validates "physnet:bridge[,physnet:bridge...]".
func checkBridgeMappings(s string) error {
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		network, bridge, ok := strings.Cut(m, ":")
		if !ok || network == "" {
			return fmt.Errorf("mapping %q: want network:bridge", m)
		}
		if err := checkIfName(bridge); err != nil {
			return fmt.Errorf("mapping %q: %w", m, err)
		}
		if seen[network] {
			return fmt.Errorf("network %q is mapped twice", network)
		}
		seen[network] = true
	}
	return nil
}

// checkOVNRemote validates ovn-remote: comma-separated active OVSDB remotes.
func checkOVNRemote(s string) error {
	for _, r := range strings.Split(s, ",") {
		if err := checkRemote(r, false); err != nil {
			return err
		}
	}
	return nil
}

// checkRemote validates one OVSDB remote (ovsdb(7)): active tcp:HOST:PORT,
// ssl:HOST:PORT or unix:PATH; with passive also ptcp:PORT[:IP],
// pssl:PORT[:IP] or punix:PATH.
func checkRemote(r string, passive bool) error {
	method, rest, _ := strings.Cut(r, ":")
	var err error
	switch method {
	case "tcp", "ssl":
		err = checkActiveInet(rest)
	case "unix":
		err = checkSocketPath(rest)
	case "ptcp", "pssl", "punix":
		if !passive {
			return fmt.Errorf("remote %q: a passive remote cannot be used here; want tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH", r)
		}
		if method == "punix" {
			err = checkSocketPath(rest)
		} else {
			err = checkPassiveInet(rest)
		}
	default:
		want := "tcp:HOST:PORT, ssl:HOST:PORT or unix:PATH"
		if passive {
			want = "ptcp:PORT[:IP], pssl:PORT[:IP], punix:PATH, " + want
		}
		return fmt.Errorf("remote %q: want %s", r, want)
	}
	if err != nil {
		return fmt.Errorf("remote %q: %w", r, err)
	}
	return nil
}

// checkActiveInet validates HOST:PORT, with an IPv6 HOST in brackets.
func checkActiveInet(s string) error {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return fmt.Errorf("want HOST:PORT")
	}
	host, port := s[:i], s[i+1:]
	if err := checkPortText(port); err != nil {
		return err
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return fmt.Errorf("invalid IPv6 address %s", host)
		}
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("write an IPv6 address in brackets, as [%s]", host)
	}
	if looksNumeric(host) {
		return checkIP(host)
	}
	return checkHostname(host)
}

// checkPassiveInet validates PORT[:IP], with an IPv6 IP in brackets.
func checkPassiveInet(s string) error {
	port, ip, hasIP := strings.Cut(s, ":")
	if err := checkPortText(port); err != nil {
		return err
	}
	if !hasIP {
		return nil
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	return checkIP(ip)
}

func checkPortText(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want a number in 1..65535", s)
	}
	return nil
}

func checkSocketPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("socket path %q is not absolute", s)
	}
	return nil
}
