package libvirttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/libvirtd"
)

// Kit is the test guest (internal/libvirtd's guest kit): a Debian kernel
// and a busybox initramfs whose init runs udhcpc on every NIC, reports
// leases on the serial console ("ovnrun-guest: eth0 172.16.1.5/24") and
// serves commands on the channel builtins/virt's GuestExec talks to.
type Kit struct {
	Kernel, Initrd string
	// Cmdline is the kernel command line it wants.
	Cmdline string
}

// GuestKit returns the guest kit, building it with
// scripts/build-guest-kit.sh when it is missing or of another revision
// (that downloads two Debian packages once; $OVNRUN_GUEST_KIT overrides
// the directory). It fails under CI=true when it cannot be had, and skips
// elsewhere.
func GuestKit(t testing.TB) Kit {
	t.Helper()
	k, err := libvirtd.FindKit()
	if err != nil {
		_, self, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(self), "..", "..", "scripts", "build-guest-kit.sh")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, berr := exec.CommandContext(ctx, script, k.Dir).CombinedOutput()
		if k, err = libvirtd.FindKit(); err != nil {
			msg := "libvirttest: no guest kit and building it failed: " + err.Error()
			if berr != nil {
				msg += ": " + berr.Error() + "\n" + string(out)
			}
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return Kit{Kernel: k.Kernel, Initrd: k.Initrd, Cmdline: libvirtd.KitCmdline}
}
