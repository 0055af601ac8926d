package lab

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/libvirttest"
)

// requireQEMU stops a test that cannot run libvirtd, and builds the guest
// kit if need be: a failure under CI=true (which runs
// scripts/install-virt-deps.sh first), a skip elsewhere.
func requireQEMU(t *testing.T) {
	t.Helper()
	require(t)
	libvirttest.Require(t)
	libvirttest.GuestKit(t)
}

// TestUpDownQEMU brings up a lab with QEMU guests: each host's libvirtd
// answers on the socket the inventory names, its SSH sessions see the
// host's own libvirt directories, reset starts it again, and lab down
// leaves nothing behind.
func TestUpDownQEMU(t *testing.T) {
	requireQEMU(t)
	name := testBase(t)
	// Under /run, as labs are by default: the host's mount namespace gets
	// a /run of its own, into which the lab's directory is carried over.
	base := filepath.Join("/run", "ovnrun-test-"+name)
	t.Setenv("OVNRUN_LAB_DIR", base)
	spec := Spec{Name: name, Runbook: "q.star", VMs: VMsQEMU, Hosts: []HostSpec{{Name: "h0", Address: "177.1.1.1"}}}
	t.Cleanup(func() {
		Down(spec.Name)
		os.RemoveAll(base)
	})
	l, _, err := Up(spec, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	h := l.Hosts[0]
	sock := l.LibvirtSocket(h)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("libvirtd of h0: %v", err)
	}
	c.Close()
	var inv struct {
		Hosts map[string]map[string]any `json:"hosts"`
	}
	data, _ := os.ReadFile(l.InventoryPath())
	if err := json.Unmarshal(data, &inv); err != nil || inv.Hosts["h0"]["libvirt_socket"] != sock {
		t.Errorf("inventory: %s, %v", data, err)
	}
	// The host's sshd shares libvirtd's mount namespace: its /var/lib/libvirt
	// is the host's, and /run/libvirt holds virtlogd's socket.
	sshd, _ := readPID(filepath.Join(h.Dir, "sshd.pid"))
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(sshd), "root/run/libvirt/virtlogd-sock")); err != nil {
		t.Errorf("sshd's /run/libvirt: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(sshd), "root/var/lib/libvirt/images")); err != nil {
		t.Errorf("sshd's /var/lib/libvirt: %v", err)
	}
	// virsh in a session finds libvirtd; the machine's own /run does not.
	if target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(sshd), "root/run/libvirt/libvirt-sock")); err != nil || target != sock {
		t.Errorf("sshd's /run/libvirt/libvirt-sock: %q, %v", target, err)
	}
	if target, _ := os.Readlink("/run/libvirt/libvirt-sock"); target == sock {
		t.Errorf("the machine's /run/libvirt/libvirt-sock leads to the lab")
	}
	if st := StatusText(l); !strings.Contains(st, "libvirtd running") || !strings.Contains(st, "VMs are QEMU guests") {
		t.Errorf("status:\n%s", st)
	}
	// Another kind of VMs is refused; none said accepts the lab as it is.
	if _, _, err := Up(Spec{Name: spec.Name, Runbook: "q.star", VMs: VMsNS, Hosts: spec.Hosts}, os.Stderr); err == nil || !strings.Contains(err.Error(), "its VMs are qemu, not ns") {
		t.Errorf("Up with namespace VMs: %v", err)
	}
	if _, created, err := Up(Spec{Name: spec.Name, Runbook: "q.star", Hosts: spec.Hosts}, os.Stderr); err != nil || created {
		t.Errorf("Up without a kind of VMs: %v, %v", err, created)
	}
	if err := l.ResetHosts(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("unix", sock); err != nil {
		t.Errorf("libvirtd after reset: %v", err)
	} else {
		c.Close()
	}
	// Daemons just started may still run a short-lived child of theirs:
	// give the count a moment to settle.
	pids := Processes(spec.Name)
	for deadline := time.Now().Add(5 * time.Second); len(pids) != 3 && time.Now().Before(deadline); pids = Processes(spec.Name) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(pids) != 3 { // sshd, virtlogd, libvirtd
		t.Errorf("processes in the lab: %v", pids)
	}
	if err := Down(spec.Name); err != nil {
		t.Fatal(err)
	}
	CheckGone(t, spec.Name, pids)
}
