package libvirtd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The guest kit: the small guest scripts/build-guest-kit.sh builds from
// Debian packages (a kernel and a busybox initramfs). Its init keeps a DHCP
// client on every NIC, hot-plugged ones included, and serves commands on
// the virtio-serial channel that builtins/virt's GuestExec talks to.

// KitRev is the revision of scripts/build-guest-kit.sh whose guests this
// build can talk to; the script writes it to kit.version ("rev=N").
const KitRev = 3

// DefaultKitDir is where scripts/build-guest-kit.sh puts the kit.
const DefaultKitDir = "/var/cache/ovnrun/guest-kit"

// KitCmdline is the kernel command line the kit's guests boot with.
const KitCmdline = "console=ttyS0 quiet"

// Kit is a built guest kit.
type Kit struct {
	Dir, Kernel, Initrd string
}

// KitDir is the kit's directory: $OVNRUN_GUEST_KIT, else DefaultKitDir.
func KitDir() string {
	if d := os.Getenv("OVNRUN_GUEST_KIT"); d != "" {
		return d
	}
	return DefaultKitDir
}

// FindKit returns the kit in KitDir, or an error saying how to build it
// when it is missing or of another revision.
func FindKit() (Kit, error) {
	dir := KitDir()
	// vmlinux is the kit's kernel uncompressed: QEMU boots it through its
	// PVH entry point, twice as fast as the compressed vmlinuz.
	k := Kit{Dir: dir, Kernel: filepath.Join(dir, "vmlinux"), Initrd: filepath.Join(dir, "initrd.img")}
	data, err := os.ReadFile(filepath.Join(dir, "kit.version"))
	var missing []string
	for _, f := range []string{k.Kernel, k.Initrd} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, filepath.Base(f))
		}
	}
	switch {
	case len(missing) > 0 || err != nil:
		return k, fmt.Errorf("no guest kit in %s: build it with scripts/build-guest-kit.sh (docs/vms.md)", dir)
	case !strings.Contains("\n"+string(data), fmt.Sprintf("\nrev=%d\n", KitRev)):
		return k, fmt.Errorf("the guest kit in %s is of another revision than this ovnrun's (rev=%d): rebuild it with scripts/build-guest-kit.sh", dir, KitRev)
	}
	return k, nil
}
