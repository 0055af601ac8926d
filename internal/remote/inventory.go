package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Inventory says how to reach the hosts of a real lab, apart from the
// runbook: the same runbook then builds a lab anywhere. It is a JSON file
// (docs/hosts.md):
//
//	{
//	  "known_hosts": "~/.ssh/known_hosts",
//	  "hosts": {
//	    "h0": {"address": "10.0.0.5", "user": "root", "identity_file": "~/.ssh/lab_ed25519"},
//	    "h1": {"address": "10.0.0.6", "port": 2222, "password_env": "LAB_H1_PASSWORD",
//	           "ovs_rundir": "/run/openvswitch", "ovn_rundir": "/run/ovn",
//	           "libvirt_socket": "/run/libvirt/virtqemud-sock"}
//	  }
//	}
//
// Every field a host gives overrides what the runbook's host() says. Hosts
// the runbook does not declare are ignored, so one inventory can serve
// every runbook of a lab. It never holds a secret: password_env and
// passphrase_env name environment variables read when ovnrun connects.
type Inventory struct {
	// KnownHosts is the known_hosts file to check host keys against.
	KnownHosts string `json:"known_hosts,omitempty"`
	// SSHConfig is the ssh_config file that resolves the hosts' addresses
	// (HostName, User, Port, IdentityFile, ProxyJump); "none" for none.
	SSHConfig string                   `json:"ssh_config,omitempty"`
	Hosts     map[string]InventoryHost `json:"hosts"`
}

// InventoryHost is one host of an inventory. Empty fields keep the
// runbook's value.
type InventoryHost struct {
	Address       string `json:"address,omitempty"`
	Port          int    `json:"port,omitempty"`
	User          string `json:"user,omitempty"`
	IdentityFile  string `json:"identity_file,omitempty"`
	PasswordEnv   string `json:"password_env,omitempty"`
	PassphraseEnv string `json:"passphrase_env,omitempty"`
	OVSRundir     string `json:"ovs_rundir,omitempty"`
	OVNRundir     string `json:"ovn_rundir,omitempty"`
	// LibvirtSocket is libvirtd's read-write socket on the host, which the
	// libvirt driver dials through the host's connection.
	LibvirtSocket string `json:"libvirt_socket,omitempty"`
	// Local runs this host's actions on this machine without SSH.
	Local bool `json:"local,omitempty"`
	// Become, when set, says whether commands run as root through sudo;
	// BecomePasswordEnv names the variable holding sudo's password.
	Become            *bool  `json:"become,omitempty"`
	BecomePasswordEnv string `json:"become_password_env,omitempty"`
}

// LoadInventory reads an inventory file. Relative paths in it are relative
// to the file's directory.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return ParseInventory(path, data, filepath.Dir(path))
}

// secretField matches keys that would hold a secret in the file itself.
var secretField = regexp.MustCompile(`(?i)"(password|passphrase|private_key|secret)"\s*:`)

// ParseInventory parses the inventory data read from the file name; dir
// resolves relative paths. Each error it returns names name:line.
func ParseInventory(name string, data []byte, dir string) (*Inventory, error) {
	at := func(line int, err error) error { return fmt.Errorf("inventory %s:%d: %w", name, line, err) }
	if m := secretField.FindSubmatchIndex(data); m != nil {
		field := string(data[m[2]:m[3]])
		// Said without quoting the value: it would be the secret.
		return nil, at(lineAt(data, int64(m[0])), fmt.Errorf("an inventory never holds a %s: put it in an environment variable and name the variable in %s_env", field, strings.ToLower(field)))
	}
	lines, err := keyLines(data)
	if err != nil {
		return nil, at(err.line, err.err)
	}
	var inv Inventory
	if err := json.Unmarshal(data, &inv); err != nil {
		// Syntax and unknown keys were refused above: this is a value of the
		// wrong type, which the error locates.
		line := 1
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line = lineAt(data, te.Offset)
		}
		return nil, at(line, err)
	}
	if inv.KnownHosts != "" {
		inv.KnownHosts = resolvePath(dir, inv.KnownHosts)
	}
	if inv.SSHConfig != "" && inv.SSHConfig != "none" {
		inv.SSHConfig = resolvePath(dir, inv.SSHConfig)
	}
	var errs []error
	for _, name := range inv.names() {
		h := inv.Hosts[name]
		for _, fe := range h.check() {
			line, ok := lines["hosts/"+name+"/"+fe.field]
			if !ok {
				line = lines["hosts/"+name]
			}
			errs = append(errs, at(line, fmt.Errorf("host %s: %w", name, fe.err)))
		}
		if h.IdentityFile != "" {
			h.IdentityFile = resolvePath(dir, h.IdentityFile)
		}
		inv.Hosts[name] = h
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &inv, nil
}

func (inv *Inventory) names() []string {
	names := make([]string, 0, len(inv.Hosts))
	for n := range inv.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)
	userRE  = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._-]*$`)
)

// fieldError is a host's field that the checks refuse.
type fieldError struct {
	field string // its key in the file
	err   error
}

func (h InventoryHost) check() []fieldError {
	var errs []fieldError
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fieldError{field, err})
		}
	}
	if h.Address != "" {
		_, err := netip.ParseAddr(h.Address)
		labels := strings.Split(strings.TrimSuffix(h.Address, "."), ".")
		// A name whose last label is numeric is a mistyped IPv4 address.
		numeric := strings.Trim(labels[len(labels)-1], "0123456789") == ""
		if err != nil && (numeric || !dnsName.MatchString(h.Address)) {
			add("address", fmt.Errorf("address %q: want an IP address or DNS name", h.Address))
		}
	}
	if h.Local && (h.Address != "" || h.Port != 0 || h.User != "" || h.IdentityFile != "" || h.PasswordEnv != "" ||
		h.Become != nil || h.BecomePasswordEnv != "") {
		add("local", errors.New("a local host takes no address, port, user, identity_file, password_env or become"))
	}
	if h.Port < 0 || h.Port > 65535 {
		add("port", fmt.Errorf("port %d is out of range 1..65535", h.Port))
	}
	if h.User != "" && !userRE.MatchString(h.User) {
		add("user", fmt.Errorf("invalid user %q", h.User))
	}
	for _, d := range []struct{ field, v string }{{"ovs_rundir", h.OVSRundir}, {"ovn_rundir", h.OVNRundir}, {"libvirt_socket", h.LibvirtSocket}} {
		if d.v != "" && !filepath.IsAbs(d.v) {
			add(d.field, fmt.Errorf("%s %q is not absolute", d.field, d.v))
		}
	}
	add("password_env", checkEnvName("password_env", h.PasswordEnv))
	add("passphrase_env", checkEnvName("passphrase_env", h.PassphraseEnv))
	add("become_password_env", checkEnvName("become_password_env", h.BecomePasswordEnv))
	return errs
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "~/") || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// Apply returns t with the inventory's settings for t.Name applied, and
// whether the inventory lists that host.
func (inv *Inventory) Apply(t Target) (Target, bool) {
	if inv == nil {
		return t, false
	}
	h, ok := inv.Hosts[t.Name]
	if !ok {
		return t, false
	}
	if h.Local {
		return Target{Name: t.Name, Local: true, OVSRundir: h.OVSRundir, OVNRundir: h.OVNRundir, LibvirtSocket: h.LibvirtSocket}, true
	}
	if h.Address != "" {
		t.Local = false
		t.Address = h.Address
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&t.User, h.User)
	set(&t.PasswordEnv, h.PasswordEnv)
	set(&t.PassphraseEnv, h.PassphraseEnv)
	set(&t.OVSRundir, h.OVSRundir)
	set(&t.OVNRundir, h.OVNRundir)
	set(&t.LibvirtSocket, h.LibvirtSocket)
	set(&t.BecomePasswordEnv, h.BecomePasswordEnv)
	if h.Become != nil {
		t.Become = *h.Become
	}
	if h.Port != 0 {
		t.Port = h.Port
	}
	if h.IdentityFile != "" {
		t.IdentityFiles = []string{h.IdentityFile}
	}
	return t, true
}
