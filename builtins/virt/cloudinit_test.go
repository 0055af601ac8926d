package virt

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdomanski/iso9660"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvnrunTestKeyOnlyForTests0000000000000000 alice@lab"

// TestSeedFiles: the seed's user-data is #cloud-config with the user (and
// passwordless sudo), its key, the hostname and the packages, and starts
// the guest agent it installs; meta-data's instance ID follows the
// contents.
func TestSeedFiles(t *testing.T) {
	ci := &CloudInit{User: "cloud", SSHKeys: []string{testKey}, Packages: []string{"qemu-guest-agent", "tcpdump"}}
	u, m := ci.seedFiles("v0")
	want := `#cloud-config
hostname: "v0"
users:
  - default
  - name: "cloud"
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    shell: /bin/sh
    lock_passwd: true
    ssh_authorized_keys:
      - "` + testKey + `"
packages:
  - "qemu-guest-agent"
  - "tcpdump"
runcmd:
  - [systemctl, enable, --now, qemu-guest-agent]
`
	if string(u) != want {
		t.Errorf("user-data:\n%s\nwant:\n%s", u, want)
	}
	if !strings.HasPrefix(string(m), `instance-id: "v0-`) || !strings.HasSuffix(string(m), "\nlocal-hostname: \"v0\"\n") {
		t.Errorf("meta-data:\n%s", m)
	}
	// Keys without a user go to the image's default user; a hostname of
	// its own replaces the VM's name.
	u2, m2 := (&CloudInit{SSHKeys: []string{testKey}, Hostname: "web-1.lab"}).seedFiles("v0")
	if want := "#cloud-config\nhostname: \"web-1.lab\"\nssh_authorized_keys:\n  - \"" + testKey + "\"\n"; string(u2) != want {
		t.Errorf("user-data without user:\n%s\nwant:\n%s", u2, want)
	}
	if string(m2[:20]) == string(m[:20]) || !strings.Contains(string(m2), `local-hostname: "web-1.lab"`) {
		t.Errorf("meta-data of another seed:\n%s", m2)
	}
	if ci.seedDigest("v0") == (&CloudInit{User: "cloud"}).seedDigest("v0") || ci.seedDigest("v0") != ci.seedDigest("v0") {
		t.Error("seedDigest does not follow the contents")
	}
}

// TestSeedISO: the seed is an ISO 9660 volume labelled cidata holding
// user-data and meta-data, as cloud-init's NoCloud source reads it; where
// blkid is installed, it must find the label as cloud-init does.
func TestSeedISO(t *testing.T) {
	ci := &CloudInit{User: "cloud", SSHKeys: []string{testKey}}
	iso, err := ci.seedISO("v0")
	if err != nil {
		t.Fatal(err)
	}
	img, err := iso9660.OpenImage(bytes.NewReader(iso))
	if err != nil {
		t.Fatal(err)
	}
	if label, err := img.Label(); err != nil || label != "cidata" {
		t.Errorf("label %q, %v", label, err)
	}
	root, err := img.RootDir()
	if err != nil {
		t.Fatal(err)
	}
	kids, err := root.GetChildren()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range kids {
		b, err := io.ReadAll(f.Reader())
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name()] = string(b)
	}
	u, m := ci.seedFiles("v0")
	if len(got) != 2 || got["user-data"] != string(u) || got["meta-data"] != string(m) {
		t.Errorf("files %q", got)
	}
	blkid, err := exec.LookPath("blkid")
	if err != nil {
		return // the reader above is the check
	}
	f := filepath.Join(t.TempDir(), "seed.iso")
	if err := os.WriteFile(f, iso, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(blkid, "-p", "-o", "export", f).Output()
	if err != nil || !strings.Contains(string(out), "LABEL=cidata\n") || !strings.Contains(string(out), "TYPE=iso9660\n") {
		t.Errorf("blkid: %s, %v", out, err)
	}
}
