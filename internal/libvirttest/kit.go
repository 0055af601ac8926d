package libvirttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// DefaultKitDir is where scripts/build-guest-kit.sh puts the guest kit.
const DefaultKitDir = "/var/cache/ovnrun/guest-kit"

// Kit is the test guest: a Debian kernel and a busybox initramfs whose
// init runs udhcpc on every NIC and reports leases on the serial console
// ("ovnrun-guest: eth0 172.16.1.5/24").
type Kit struct {
	Kernel, Initrd string
	// Cmdline is the kernel command line it wants.
	Cmdline string
}

// GuestKit returns the guest kit, building it with
// scripts/build-guest-kit.sh when it is missing (that downloads two Debian
// packages once; $OVNRUN_GUEST_KIT overrides the directory). It fails under
// CI=true when it cannot be had, and skips elsewhere.
func GuestKit(t testing.TB) Kit {
	t.Helper()
	dir := os.Getenv("OVNRUN_GUEST_KIT")
	if dir == "" {
		dir = DefaultKitDir
	}
	k := Kit{Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initrd.img"), Cmdline: "console=ttyS0 quiet"}
	if fileExists(k.Kernel) && fileExists(k.Initrd) {
		return k
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "scripts", "build-guest-kit.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, dir).CombinedOutput()
	if err == nil && fileExists(k.Kernel) && fileExists(k.Initrd) {
		return k
	}
	msg := "libvirttest: no guest kit and building it failed: " + string(out)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return k
}
