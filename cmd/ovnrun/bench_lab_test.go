package main

import (
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
)

// The seed lab from nothing (no lab) to verified pings, the figures
// docs/speed.md holds against their targets (10 s with namespace VMs, 90 s
// with QEMU guests). A speed target is a benchmark's to measure, not a
// test's to assert: a test fails on a busy machine, a benchmark reports it.
// Tearing the lab down between runs is not timed.

// BenchmarkLabSeed is `ovnrun --lab runbooks/dgp.star` with namespace VMs.
func BenchmarkLabSeed(b *testing.B) {
	benchLabSeed(b, labRunbook, "--lab")
}

// BenchmarkLabSeedQEMU is the same with QEMU guests (--lab-vms=qemu).
func BenchmarkLabSeedQEMU(b *testing.B) {
	labhost.RequireLab(b)
	libvirttest.Require(b)
	libvirttest.GuestKit(b)
	benchLabSeed(b, qemuLabRunbook, "--lab", "--lab-vms=qemu")
}

func benchLabSeed(b *testing.B, copyRunbook func(testing.TB, string) (string, string), args ...string) {
	labhost.RequireLab(b)
	path, name := copyRunbook(b, "dgp")
	for b.Loop() {
		out, _ := ovnrunProcess(b, append(args, path)...)
		checkPings(b, out, 3)
		b.StopTimer()
		if err := lab.Down(name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
