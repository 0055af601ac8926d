package virt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kdomanski/iso9660"
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// vm(cloud_init={...}) gives a stock cloud image what it needs on first
// boot through cloud-init's NoCloud source: an ISO 9660 volume labelled
// "cidata" holding user-data (#cloud-config) and meta-data, attached as a
// CD-ROM. The seed is built here, in Go, and uploaded to the host as the
// VM's own file (ovnrun-<domain>-seed.iso), which destroy removes.

// CloudInit is what the seed declares.
type CloudInit struct {
	User     string   // an account with passwordless sudo; "" for the image's default user
	SSHKeys  []string // authorized keys of User (or of the default user)
	Hostname string
	Packages []string // installed on first boot, such as qemu-guest-agent
}

// cloudInitKeys are the keys cloud_init= accepts, in the order the docs
// give them.
var cloudInitKeys = []string{"user", "ssh_keys", "hostname", "packages"}

var (
	userRE    = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	packageRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9+._:-]{0,127}$`)
	sshKeyRE  = regexp.MustCompile(`^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\n\r]*)?$`)
)

// cloudInitArg is an Unpacker for cloud_init=: a dict of cloudInitKeys.
type cloudInitArg struct{ ci *CloudInit }

func (a *cloudInitArg) Unpack(v starlark.Value) error {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("got %s, want dict with keys %s", v.Type(), strings.Join(cloudInitKeys, ", "))
	}
	ci := &CloudInit{}
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok || !slices.Contains(cloudInitKeys, k) {
			return fmt.Errorf("unknown key %s (want %s)", kv[0], strings.Join(cloudInitKeys, ", "))
		}
		var err error
		switch k {
		case "user":
			ci.User, err = stringMatching(kv[1], userRE, "a user name such as cloud-user")
		case "hostname":
			if ci.Hostname, err = stringMatching(kv[1], nil, ""); err == nil {
				err = interp.CheckHostname(ci.Hostname)
			}
		case "ssh_keys":
			ci.SSHKeys, err = stringsMatching(keyLines(kv[1]), sshKeyRE, "an OpenSSH public key line (type, base64 key, comment)")
		case "packages":
			ci.Packages, err = stringsMatching(kv[1], packageRE, "a package name")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	a.ci = ci
	return nil
}

// keyLines turns a string of public keys, such as read_file() gives of an
// authorized_keys or .pub file, into a list of its lines, without blank
// lines and comments; other values are returned as they are.
func keyLines(v starlark.Value) starlark.Value {
	s, ok := v.(starlark.String)
	if !ok {
		return v
	}
	var lines []starlark.Value
	for line := range strings.Lines(string(s)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, starlark.String(line))
		}
	}
	if len(lines) == 0 {
		return v // refused as it is
	}
	return starlark.NewList(lines)
}

// stringMatching returns v as a string that re matches (any when re is
// nil).
func stringMatching(v starlark.Value, re *regexp.Regexp, what string) (string, error) {
	s, ok := starlark.AsString(v)
	if !ok {
		return "", fmt.Errorf("got %s, want string", v.Type())
	}
	if re != nil && !re.MatchString(s) {
		return "", fmt.Errorf("%q is not %s", s, what)
	}
	return s, nil
}

// stringsMatching returns v, a string or a list of strings, as a list.
func stringsMatching(v starlark.Value, re *regexp.Regexp, what string) ([]string, error) {
	if _, ok := v.(starlark.String); ok {
		s, err := stringMatching(v, re, what)
		return []string{s}, err
	}
	l, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("got %s, want string or list of strings", v.Type())
	}
	out := make([]string, l.Len())
	for i := range l.Len() {
		s, err := stringMatching(l.Index(i), re, what)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// Field is how the plan shows the seed: its settings, each key by its type
// and comment.
func (ci *CloudInit) Field() map[string]string {
	if ci == nil {
		return nil
	}
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("user", ci.User)
	set("hostname", ci.Hostname)
	set("packages", strings.Join(ci.Packages, " "))
	var keys []string
	for _, k := range ci.SSHKeys {
		f := strings.Fields(k)
		keys = append(keys, strings.Join(append(f[:1:1], f[2:]...), " "))
	}
	set("ssh_keys", strings.Join(keys, ", "))
	return m
}

// q quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func q(s string) string { return strconv.Quote(s) }

// seedFiles returns the seed's user-data and meta-data for domain. The
// instance ID changes with the contents, so that cloud-init applies a
// changed seed as a new instance.
func (ci *CloudInit) seedFiles(domain string) (userData, metaData []byte) {
	hostname := ci.Hostname
	if hostname == "" {
		hostname = domain
	}
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("hostname: " + q(hostname) + "\n")
	keys := func(indent string) {
		if len(ci.SSHKeys) == 0 {
			return
		}
		b.WriteString(indent + "ssh_authorized_keys:\n")
		for _, k := range ci.SSHKeys {
			b.WriteString(indent + "  - " + q(k) + "\n")
		}
	}
	if ci.User != "" {
		b.WriteString("users:\n  - default\n  - name: " + q(ci.User) + "\n")
		b.WriteString("    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n    shell: /bin/sh\n    lock_passwd: true\n")
		keys("    ")
	} else {
		keys("")
	}
	if len(ci.Packages) > 0 {
		b.WriteString("packages:\n")
		for _, p := range ci.Packages {
			b.WriteString("  - " + q(p) + "\n")
		}
	}
	if slices.Contains(ci.Packages, "qemu-guest-agent") {
		// Installing the agent does not start it on every distribution.
		b.WriteString("runcmd:\n  - [systemctl, enable, --now, qemu-guest-agent]\n")
	}
	userData = []byte(b.String())
	sum := sha256.Sum256(userData)
	metaData = []byte("instance-id: " + q(domain+"-"+hex.EncodeToString(sum[:6])) + "\nlocal-hostname: " + q(hostname) + "\n")
	return userData, metaData
}

// seedDigest identifies a seed's contents, recorded in the domain's
// metadata so that a changed cloud_init= shows as a difference.
func (ci *CloudInit) seedDigest(domain string) string {
	if ci == nil {
		return ""
	}
	u, m := ci.seedFiles(domain)
	sum := sha256.Sum256(append(append(u, 0), m...))
	return hex.EncodeToString(sum[:8])
}

// seedLabel is the volume label cloud-init's NoCloud source looks for.
const seedLabel = "cidata"

// seedISO builds the NoCloud seed of domain as an ISO 9660 image.
func (ci *CloudInit) seedISO(domain string) ([]byte, error) {
	w, err := iso9660.NewWriter()
	if err != nil {
		return nil, err
	}
	defer w.Cleanup()
	u, m := ci.seedFiles(domain)
	for name, data := range map[string][]byte{"user-data": u, "meta-data": m} {
		if err := w.AddFile(bytes.NewReader(data), name); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	if err := w.WriteTo(&out, seedLabel); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
