package virt

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// TestGuestKitInput: with a guest kit among the evaluation's inputs, vm()
// boots the kit from evaluation on and the plan names it; without one, the
// runbook's vm() is planned as written.
func TestGuestKitInput(t *testing.T) {
	const src = `h0 = host("h0", local = True)
vm("v0", host = h0, image = "http://images.lab/rhel8.4.qcow2", vcpus = 2, memory_mib = 2048, disk_gib = 20, os_variant = "rhel8.4", domain_type = "kvm")
`
	kit := GuestKit{Kernel: "/k/vmlinux", Initrd: "/k/initrd.img", Cmdline: "console=ttyS0", VCPUs: 1, MemoryMiB: 128, Name: "lab dgp: /k"}
	for _, tc := range []struct {
		kit        *GuestKit
		want, lack []string
	}{
		{&kit, []string{`guest_kit: "lab dgp: /k"`, `kernel: "/k/vmlinux"`, `initrd: "/k/initrd.img"`, `cmdline: "console=ttyS0"`, "vcpus: 1", "memory_mib: 128"},
			[]string{"image:", "disk_gib:", "os_variant:", "domain_type:"}},
		{nil, []string{`image: "http://images.lab/rhel8.4.qcow2"`, "vcpus: 2", "memory_mib: 2048", "disk_gib: 20"},
			[]string{"guest_kit:", "kernel:"}},
	} {
		reg, err := newRegistry()
		if err != nil {
			t.Fatal(err)
		}
		opts := interp.Options{Registry: reg}
		if tc.kit != nil {
			SetGuestKit(&opts, *tc.kit)
		}
		plan, err := interp.Evaluate("lab.star", []byte(src), opts)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := interp.WriteText(&b, plan, interp.OfflineChanges(plan.Steps)); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("kit %v: the plan lacks %q:\n%s", tc.kit != nil, w, b.String())
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(b.String(), l) {
				t.Errorf("kit %v: the plan has %q:\n%s", tc.kit != nil, l, b.String())
			}
		}
		if n := GuestKitVMs(plan); n != map[bool]int{true: 1, false: 0}[tc.kit != nil] {
			t.Errorf("kit %v: GuestKitVMs = %d", tc.kit != nil, n)
		}
	}
}
