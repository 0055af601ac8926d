package remote

import (
	"strings"
	"testing"
)

func TestParseInventory(t *testing.T) {
	inv, err := ParseInventory([]byte(`{
  "known_hosts": "kh",
  "hosts": {
    "h0": {"address": "10.0.0.5", "identity_file": "keys/h0", "ovs_rundir": "/run/openvswitch"},
    "h1": {"address": "hv1.example.com", "port": 2222, "user": "lab", "password_env": "LAB_H1_PASSWORD",
           "libvirt_socket": "/run/libvirt/virtqemud-sock"},
    "me": {"local": true}
  }
}`), "/etc/lab")
	if err != nil {
		t.Fatal(err)
	}
	if inv.KnownHosts != "/etc/lab/kh" {
		t.Errorf("known_hosts = %s", inv.KnownHosts)
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
		_, err := ParseInventory([]byte(tc.json), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.json, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
}
