package main

import (
	"github.com/spf13/pflag"
)

// virtFlags are the flags of the libvirt driver (docs/vms.md).
type virtFlags struct {
	recreateVMs bool
	// waitGuests is set in a lab with QEMU guests, whose guest kit
	// opens the command channel once booted (virt.Config.WaitGuests).
	waitGuests bool
}

func addVirtFlags(fs *pflag.FlagSet, f *virtFlags) {
	fs.BoolVar(&f.recreateVMs, "recreate-vms", false,
		"destroy and define anew a VM whose domain differs from the runbook (its disk is recreated from the image); without it such a run is refused")
}
