package virt

import "github.com/ovnrun/ovnrun/interp"

// A guest kit is an input to evaluation, not an edit of a finished plan: in
// a lab with QEMU guests, vm() boots the kit instead of what the runbook
// says, and the plan says so (the guest_kit field).

// guestKitKey is the key of the guest kit in interp.Options.Inputs.
const guestKitKey = "virt.guestkit"

// GuestKit is what every vm() boots when it is set: a kernel and initrd
// booted directly (no disk, no image), with a command line and a size.
type GuestKit struct {
	Kernel, Initrd, Cmdline string
	VCPUs, MemoryMiB        int
	// Name says whose kit it is in the plan, such as "lab dgp: /usr/share/ovnrun/guest".
	Name string
}

// SetGuestKit makes every vm() of the evaluation opts configures boot kit.
func SetGuestKit(opts *interp.Options, kit GuestKit) {
	if opts.Inputs == nil {
		opts.Inputs = map[string]any{}
	}
	opts.Inputs[guestKitKey] = kit
}

// useGuestKit makes d boot the evaluation's guest kit, if it has one. The
// runbook's image, its digest, disk, cloud-init seed and sizes are for
// real hosts; they are dropped.
func useGuestKit(c *interp.Call, d *Domain) {
	kit, ok := c.Ev.Input(guestKitKey).(GuestKit)
	if !ok {
		return
	}
	d.Image, d.DiskGiB, d.OSVariant, d.DomainType, d.SHA256, d.CloudInit = "", 0, "", "", "", nil
	d.Kernel, d.Initrd, d.Cmdline = kit.Kernel, kit.Initrd, kit.Cmdline
	d.VCPUs, d.MemoryMiB = kit.VCPUs, kit.MemoryMiB
	d.GuestKit = kit.Name
}

// GuestKitVMs returns how many VMs of plan boot a guest kit.
func GuestKitVMs(plan *interp.Plan) int {
	n := 0
	for _, s := range plan.Steps {
		for _, a := range s.Actions {
			if d, ok := a.(*Domain); ok && d.GuestKit != "" {
				n++
			}
		}
	}
	return n
}
