package remote

import (
	"strings"
	"testing"
)

func TestParseInventory(t *testing.T) {
	inv, err := ParseInventory("lab.json", []byte(`{
  "known_hosts": "kh",
  "ssh_config": "ssh/config",
  "hosts": {
    "h0": {"address": "10.0.0.5", "identity_file": "keys/h0", "ovs_rundir": "/run/openvswitch"},
    "h1": {"address": "hv1.example.com", "port": 2222, "user": "lab", "password_env": "LAB_H1_PASSWORD",
           "libvirt_socket": "/run/libvirt/virtqemud-sock"},
    "h2": {"user": "lab", "become": true, "become_password_env": "LAB_SUDO_PW"},
    "h3": {"become": false},
    "me": {"local": true}
  }
}`), "/etc/lab")
	if err != nil {
		t.Fatal(err)
	}
	if inv.KnownHosts != "/etc/lab/kh" || inv.SSHConfig != "/etc/lab/ssh/config" {
		t.Errorf("known_hosts = %s, ssh_config = %s", inv.KnownHosts, inv.SSHConfig)
	}
	// become in the inventory overrides the runbook's, both ways.
	if h2, _ := inv.Apply(Target{Name: "h2", Address: "a"}); !h2.Become || h2.BecomePasswordEnv != "LAB_SUDO_PW" || h2.User != "lab" {
		t.Errorf("h2 = %+v", h2)
	}
	if h3, _ := inv.Apply(Target{Name: "h3", Address: "a", Become: true}); h3.Become {
		t.Errorf("h3 = %+v", h3)
	}
	h0, ok := inv.Apply(Target{Name: "h0", Address: "177.1.1.1", Port: 22, User: "root"})
	want := Target{Name: "h0", Address: "10.0.0.5", Port: 22, User: "root", IdentityFiles: []string{"/etc/lab/keys/h0"}, OVSRundir: "/run/openvswitch"}
	if !ok || h0.String() != "root@10.0.0.5:22" || h0.IdentityFiles[0] != want.IdentityFiles[0] || h0.OVSDir() != "/run/openvswitch" || h0.OVNDir() != DefaultOVNRundir {
		t.Errorf("h0 = %+v", h0)
	}
	h1, _ := inv.Apply(Target{Name: "h1", Address: "177.1.1.2"})
	if h1.String() != "lab@hv1.example.com:2222" || h1.PasswordEnv != "LAB_H1_PASSWORD" || h1.LibvirtSocket != "/run/libvirt/virtqemud-sock" {
		t.Errorf("h1 = %+v", h1)
	}
	if me, _ := inv.Apply(Target{Name: "me", Address: "x"}); !me.Local || me.String() != "local" {
		t.Errorf("me = %+v", me)
	}
	if other, ok := inv.Apply(Target{Name: "outside", Address: "hp-dl388g8-22"}); ok || other.Address != "hp-dl388g8-22" {
		t.Errorf("outside = %+v, %v", other, ok)
	}
}

// TestInventoryRefusesSecrets: a secret put in the file is refused, and the
// error never repeats it.
func TestInventoryRefusesSecrets(t *testing.T) {
	const secret = "hunter2-Sup3r"
	for _, tc := range []struct{ json, want string }{
		{`{"hosts": {"h0": {"address": "10.0.0.5", "password": "` + secret + `"}}}`, "never holds a password"},
		{`{"hosts": {"h0": {"address": "10.0.0.5", "password_env": "` + secret + `"}}}`, "password_env must name an environment variable"},
		{`{"hosts": {"h0": {"passphrase_env": "my ` + secret + `"}}}`, "passphrase_env must name an environment variable"},
		{`{"hosts": {"h0": {"adress": "10.0.0.5"}}}`, `unknown field "adress"`},
		{`{"hosts": {"h0": {"address": "10.0.0.300"}}}`, "want an IP address or DNS name"},
		{`{"hosts": {"h0": {"ovs_rundir": "run/ovs"}}}`, "is not absolute"},
		{`{"hosts": {"h0": {"libvirt_socket": "libvirt-sock"}}}`, "libvirt_socket \"libvirt-sock\" is not absolute"},
		{`{"hosts": {"h0": {"local": true, "address": "10.0.0.5"}}}`, "a local host takes no address"},
	} {
		_, err := ParseInventory("lab.json", []byte(tc.json), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.json, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
}

// TestInventoryErrorsNameTheLine: every refusal names file:line of what it
// refuses, whether the JSON is torn, a key unknown or a value wrong.
func TestInventoryErrorsNameTheLine(t *testing.T) {
	const good = `{
  "known_hosts": "kh",
  "hosts": {
    "h0": {"address": "10.0.0.5"},
    "h1": {
      "port": 2222,
      "user": "lab"
    }
  }
}`
	for _, tc := range []struct{ json, want string }{
		{good[:60], "inventory lab.json:4: invalid JSON: the file ends inside the inventory"},
		{strings.Replace(good, `"user"`, `"usr"`, 1), `inventory lab.json:7: host h1: unknown field "usr"`},
		{strings.Replace(good, `"known_hosts"`, `"knownhosts"`, 1), `inventory lab.json:2: unknown field "knownhosts"`},
		{strings.Replace(good, `2222`, `"2222"`, 1), "inventory lab.json:6: json: cannot unmarshal string"},
		{strings.Replace(good, `2222`, `1e400`, 1), "inventory lab.json:6: json: cannot unmarshal number 1e400"},
		{strings.Replace(good, `2222`, `70000`, 1), "inventory lab.json:6: host h1: port 70000 is out of range"},
		{strings.Replace(good, `"lab"`, `"l a b"`, 1), `inventory lab.json:7: host h1: invalid user "l a b"`},
		{strings.Replace(good, `"10.0.0.5"`, `"10.0.0.500"`, 1), `inventory lab.json:4: host h0: address "10.0.0.500"`},
		{strings.Replace(good, `"user": "lab"`, `"user": "lab",`, 1), "inventory lab.json:8: invalid JSON: invalid character '}'"},
		{strings.Replace(good, `"user": "lab"`, `"user": "lab", "password": "x"`, 1), "inventory lab.json:7: an inventory never holds a password"},
		{good + "\n{}", "inventory lab.json:11: data after the inventory"},
		{strings.Replace(good, `"kh"`, "\"k\x00h\"", 1), "inventory lab.json:2: invalid JSON: invalid character '\\x00' in string literal"},
		{`[1]`, "inventory lab.json:1: json: cannot unmarshal array"},
	} {
		_, err := ParseInventory("lab.json", []byte(tc.json), "")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n err = %v\nwant %s...", tc.json, err, tc.want)
		}
	}
	// Every refusal of a host, each on its line.
	_, err := ParseInventory("lab.json", []byte(strings.NewReplacer(`2222`, `70000`, `"lab"`, `"l a b"`).Replace(good)), "")
	want := "inventory lab.json:6: host h1: port 70000 is out of range 1..65535\ninventory lab.json:7: host h1: invalid user \"l a b\""
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
