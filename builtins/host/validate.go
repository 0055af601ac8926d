package host

import (
	"fmt"
	"regexp"
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
	"ovn-bridge":                       interp.CheckIfName,
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
	"hostname":  interp.CheckHostname,
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
		if err := interp.CheckIfName(bridge); err != nil {
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
		if err := interp.CheckRemote(r, false); err != nil {
			return err
		}
	}
	return nil
}

// envVarName is what become_password_env must look like. Refusing anything
// else keeps a password pasted there by mistake out of the plan: it is
// never echoed.
var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkBecome checks host()'s become= and become_password_env=.
func checkBecome(local, become bool, passwordEnv string) error {
	switch {
	case passwordEnv != "" && !envVarName.MatchString(passwordEnv):
		return fmt.Errorf("become_password_env must name an environment variable (letters, digits and _), and not hold the password itself")
	case passwordEnv != "" && !become:
		return fmt.Errorf("become_password_env is sudo's password for become=True: give become=True too")
	case local && become:
		return fmt.Errorf("become= is for SSH hosts; a local host runs commands as ovnrun's own user")
	}
	return nil
}
