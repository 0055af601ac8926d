package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
)

// The seed end to end with real QEMU guests (--lab-vms=qemu): every lab
// host runs a libvirtd of its own, and the lab's VMs are guests of the
// guest kit under software emulation.

// qemuLabRunbook copies runbooks/NAME.star as labRunbook does, under a
// name of its own, so that its lab never meets TestLabSeed's.
func qemuLabRunbook(t testing.TB, name string) (path, labName string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "runbooks", name+".star"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("OVNRUN_LAB_DIR", filepath.Join(dir, "labs"))
	path = filepath.Join(dir, fmt.Sprintf("t%dq%s.star", os.Getpid(), name))
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	labName = lab.NameFor(path)
	t.Cleanup(func() {
		if err := lab.Down(labName); err != nil {
			t.Error(err)
		}
	})
	return path, labName
}

// labDomains lists the domains of every host of lab name, "host/domain",
// through each host's libvirt socket.
func labDomains(t *testing.T, name string) []string {
	t.Helper()
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range l.Hosts {
		lv := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(l.LibvirtSocket(h))))
		if err := lv.ConnectToURI(libvirt.QEMUSystem); err != nil {
			t.Fatalf("libvirtd of %s: %v", h.Name, err)
		}
		doms, _, err := lv.ConnectListAllDomains(1, 0)
		lv.Disconnect()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range doms {
			out = append(out, h.Name+"/"+d.Name)
		}
	}
	sort.Strings(out)
	return out
}

var noChanges = regexp.MustCompile(`\n\d+ command\(s\) will run\.\nNo changes\.\n`)

// TestLabSeedQEMU is runbooks/dgp.star with QEMU guests, from nothing to
// verified pings: four guests of the guest kit (two per hypervisor) boot,
// their NICs are hot-plugged into br-int, OVN's DHCP gives them addresses,
// and the verify step's pings, and an exec() appended to the runbook, run
// inside them through their QEMU guest agent (qemu-ga in the kit, as on a
// stock image). Then a second run changes nothing, lab exec, capture and
// shell work inside the guests, --destroy removes the domains, and lab
// down leaves nothing.
func TestLabSeedQEMU(t *testing.T) {
	labhost.RequireLab(t)
	libvirttest.Require(t)
	libvirttest.GuestKit(t)
	path, name := qemuLabRunbook(t, "dgp")
	// exec() in a guest as well, through its agent: the kit's hostname.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, `
def guest():
    exec(vms[("h1", "v1")], ["cat", "/proc/sys/kernel/hostname"], stdout_contains = "ovnrun-guest")

step("guest", guest)
`)
	f.Close()

	out, took := ovnrunProcess(t, "--lab", "--lab-vms=qemu", path)
	checkPings(t, out, 3)
	for _, want := range []string{"a libvirtd on each for QEMU guests", "the 4 VM(s) are QEMU guests of the guest kit",
		"guest_kit: \"lab " + name + ": ", "] the guest of domain v0 is up (",
		"] commands in VM v0 run through its QEMU guest agent", "] exec h1/v1: cat: run (", "): exit status 0: ovnrun-guest\n",
		"Applied 7 step(s) in "} {
		if !strings.Contains(out, want) {
			t.Errorf("first run lacks %q:\n%s", want, out)
		}
	}
	t.Logf("seed lab (runbooks/dgp.star, QEMU guests) from nothing to verified pings: %s", took.Round(10*time.Millisecond))
	if i := strings.Index(out, "\nTiming:\n"); i >= 0 {
		t.Logf("%s", out[i+1:])
	}
	// The 90 s target is a speed figure, measured by BenchmarkLabSeedQEMU.
	want := []string{"h0/v0", "h0/v1", "h1/v0", "h1/v1"}
	if got := labDomains(t, name); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("domains: %v, want %v", got, want)
	}

	// Without --lab-vms, a lab that is up keeps its QEMU guests.
	out, took = ovnrunProcess(t, "--lab", path)
	checkPings(t, out, 3)
	if !noChanges.MatchString(out) {
		t.Errorf("second run plans changes:\n%s", out)
	}
	t.Logf("second run: %s", took.Round(10*time.Millisecond))
	stdout, _, _ := ovnrun(t, "lab", "status")
	for _, want := range []string{"VMs are QEMU guests", "libvirtd running", "vm v0: QEMU guest, running, eth"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lab status lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"to name in ovnrun lab exec, shell and capture: h0, h1, outside, h0/v0, h0/v1, h1/v0, h1/v1\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lab status lacks %q:\n%s", want, stdout)
		}
	}
	t.Run("inside", func(t *testing.T) { testInsideQEMUGuests(t, name) })
	if _, stderr, code := ovnrun(t, "--lab", "--lab-vms=ns", "--dry-run", path); code != exitFailure || !strings.Contains(stderr, "its VMs are qemu, not ns") {
		t.Errorf("--lab-vms=ns on a lab with QEMU guests: exit %d, %s", code, stderr)
	}

	out, _ = ovnrunProcess(t, "--lab", "--destroy", path)
	for _, want := range []string{"Step destroy: 32 destroyed (", "- vm_nic ", "- vm ", "every host is as it was when the lab came up"} {
		if !strings.Contains(out, want) {
			t.Errorf("destroy lacks %q:\n%s", want, out)
		}
	}
	if got := labDomains(t, name); len(got) != 0 {
		t.Errorf("domains after destroy: %v", got)
	}
	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		// As the lab brought it up: sshd, virtlogd and libvirtd.
		if pids := lab.PIDsIn(h.NS); len(pids) != 3 {
			t.Errorf("after destroy, %d processes run on %s, want sshd, virtlogd and libvirtd", len(pids), h.Name)
		}
	}
	checkDown(t, path, name)
}
