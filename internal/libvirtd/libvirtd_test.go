package libvirtd

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestKitRev: the guest kit's build script and this package agree on the
// revision of the guest.
func TestKitRev(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "build-guest-kit.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^KIT_REV=(\d+)`).FindSubmatch(script)
	if m == nil || string(m[1]) != strconv.Itoa(KitRev) {
		t.Errorf("scripts/build-guest-kit.sh has KIT_REV=%s, KitRev is %d", m, KitRev)
	}
}

func TestFindKit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OVNRUN_GUEST_KIT", dir)
	if _, err := FindKit(); err == nil || !strings.Contains(err.Error(), "build it with scripts/build-guest-kit.sh") {
		t.Errorf("no kit: %v", err)
	}
	for _, f := range []string{"vmlinux", "initrd.img"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version := filepath.Join(dir, "kit.version")
	os.WriteFile(version, []byte("rev=1\nkernel=k\n"), 0o644)
	if _, err := FindKit(); err == nil || !strings.Contains(err.Error(), "another revision") {
		t.Errorf("old kit: %v", err)
	}
	os.WriteFile(version, []byte("rev="+strconv.Itoa(KitRev)+"\nkernel=k\n"), 0o644)
	if k, err := FindKit(); err != nil || k.Kernel != filepath.Join(dir, "vmlinux") {
		t.Errorf("kit: %+v, %v", k, err)
	}
}

// TestMountScript: a directory under /run is carried over the new /run;
// one elsewhere needs nothing.
func TestMountScript(t *testing.T) {
	d := Daemons{Dir: "/run/ovnrun/labs/x/hosts/h0/libvirt", SharedCache: SharedCacheDir}
	s := d.MountScript("/run/ovnrun/labs/x")
	for _, want := range []string{
		"mount --rbind '/run/ovnrun/labs/x' /etc/libvirt\nmount -t tmpfs -o mode=0755 tmpfs /run\n",
		"mount --move /etc/libvirt '/run/ovnrun/labs/x'\n",
		"ln -s '/run/ovnrun/labs/x/hosts/h0/libvirt/sock/libvirt-sock' /run/libvirt/libvirt-sock\n",
		"mount --bind '/run/ovnrun/labs/x/hosts/h0/libvirt/lib' /var/lib/libvirt\n",
		"mount --bind '/run/ovnrun/labs/x/hosts/h0/libvirt/cache' /var/cache/libvirt\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("mount script lacks %q:\n%s", want, s)
		}
	}
	if s := (Daemons{Dir: "/tmp/t/libvirt"}).MountScript("/tmp/t"); strings.Contains(s, "--move") || strings.Contains(s, "--rbind") ||
		!strings.Contains(s, "mount --bind '/tmp/t/libvirt/cache' /var/cache/libvirt\n") {
		t.Errorf("mount script outside /run:\n%s", s)
	}
}

// TestSharedCache: a daemon's probe goes to the shared cache once
// complete, and the next daemon starts with it in its own cache.
func TestSharedCache(t *testing.T) {
	shared := t.TempDir()
	a := Daemons{Dir: t.TempDir(), SharedCache: shared}
	if warm, err := a.seedCache(); warm || err != nil {
		t.Fatalf("empty shared cache: %v, %v", warm, err)
	}
	own := capsDir(a.cacheDir())
	os.MkdirAll(own, 0o755)
	probe := "<qemuCaps>\n  <emulator>/usr/bin/qemu-system-x86_64</emulator>\n</qemuCaps>\n"
	os.WriteFile(filepath.Join(own, "x.xml.partial"), []byte("<qemuCaps>"), 0o600)
	os.WriteFile(filepath.Join(own, "h.xml"), []byte(probe), 0o600)
	a.SaveCache()
	if got, _ := os.ReadFile(filepath.Join(capsDir(shared), "h.xml")); string(got) != probe {
		t.Fatalf("shared probe: %q", got)
	}
	b := Daemons{Dir: t.TempDir(), SharedCache: shared}
	if warm, err := b.seedCache(); !warm || err != nil {
		t.Fatalf("seed: %v, %v", warm, err)
	}
	if got, _ := os.ReadFile(filepath.Join(capsDir(b.cacheDir()), "h.xml")); string(got) != probe {
		t.Errorf("seeded probe: %q", got)
	}
}
