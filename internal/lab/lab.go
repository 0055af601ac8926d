// Package lab builds emulated OVN labs on this machine, for `ovnrun --lab`
// and `ovnrun lab up|down|status`: the hosts a runbook declares, as network
// namespaces, so that the same runbook that configures real hypervisors
// over SSH configures these, unchanged. The lab only supplies what a real
// lab's inventory would: addresses, SSH keys, known_hosts.
//
// A lab named after its runbook ("dgp") is:
//   - a control namespace ovnrun-dgp, from which ovnrun runs: it reaches
//     the hosts' addresses and nothing else, so no packet of a lab can leave
//     it; it holds the lab's two L2 segments as Linux bridges: the underlay
//     between the hosts, and the outside network;
//   - per host, a namespace ovnrun-dgp-HOST with its own sshd (own host
//     key), its address on the underlay (the runbook's, or one of the lab's
//     for a host declared by DNS name), and the interfaces the runbook names
//     as physical ports, routes' and addresses' devices, plugged into the
//     outside segment; Open vSwitch (userspace datapath) and the OVN daemons
//     are started by the runbook's own service() calls, through a systemctl
//     shim in the host's own directories;
//   - per VM of the runbook, with the namespace VM driver (nsvm.go), a
//     namespace ovnrun-dgp-HOST+VM whose NICs are veths plugged into the
//     host's bridge; or, with QEMU guests (qemu.go), a libvirtd per host,
//     in a mount namespace the host's sshd shares, and the libvirt driver.
//
// Its files (keys, known_hosts, inventory, the hosts' run directories, the
// journal of `ovnrun --lab`) live in BaseDir()/NAME; `lab down` kills every
// process of the lab's namespaces, deletes them and removes the files.
//
// It imports interp, internal/remote, internal/libvirtd, x/crypto/ssh and
// x/sys. A plan's hosts and interfaces reach it through interfaces the
// domains' actions implement (InterfaceUser, VMNIC in spec.go); only the VM
// driver (nsvm*.go, qemu.go), a driver of the virt domain's actions, imports
// builtins/virt (internal/layers tests this).
package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Lab is a lab that is up: what lab.json in its directory records.
type Lab struct {
	Name    string    `json:"name"`
	Runbook string    `json:"runbook"`
	CtlNS   string    `json:"control_namespace"`
	CtlAddr string    `json:"control_address"`
	Hosts   []*Host   `json:"hosts"`
	Created time.Time `json:"created"`
	// VMs is what its VMs are: VMsNS ("" in labs of older builds) or
	// VMsQEMU.
	VMs string `json:"vms,omitempty"`
	// Dir holds the lab's files.
	Dir string `json:"-"`
}

// Host is one emulated host of a lab.
type Host struct {
	Name string `json:"name"`
	// Declared is the address the runbook gives (an IP address or a DNS
	// name); Address is the host's address in the lab.
	Declared string `json:"declared"`
	Address  string `json:"address"`
	// PrefixLen is the length of its address's prefix on the underlay.
	PrefixLen int    `json:"prefix_len"`
	NS        string `json:"namespace"`
	// Ifaces are its interfaces on the outside segment.
	Ifaces []string `json:"interfaces,omitempty"`
	// Dir holds its run, database, log and configuration directories.
	Dir string `json:"-"`
}

// Underlay is the name of every host's interface on the underlay.
const Underlay = "lab0"

// OVSRundir and OVNRundir are the host's Open vSwitch and OVN run
// directories (db.sock, ovnnb_db.sock...).
func (h *Host) OVSRundir() string { return filepath.Join(h.Dir, "ovs") }
func (h *Host) OVNRundir() string { return filepath.Join(h.Dir, "ovn") }

// BaseDir is where labs keep their files: under /run, since a lab's
// namespaces and daemons do not survive a reboot either. OVNRUN_LAB_DIR
// overrides it, so that tests never touch a user's labs.
func BaseDir() string {
	if d := os.Getenv("OVNRUN_LAB_DIR"); d != "" {
		return d
	}
	return "/run/ovnrun/labs"
}

// nsPrefix starts every namespace of every lab.
const nsPrefix = "ovnrun-"

var nameRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// NameFor is the name of the lab of a runbook: its base name without
// .star, in lowercase, with every character but letters, digits and '_'
// made '_'. A lab name never holds '-', which separates the parts of its
// namespaces' names.
func NameFor(runbook string) string {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(runbook), ".star"))
	b := []byte(base)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("lab: invalid lab name %q: want 1 to 32 of a-z, 0-9 and _", name)
	}
	return nil
}

// ctlNS, hostNS and VMNS name a lab's namespaces. A host or VM name never
// holds '+', so no two of them collide.
func ctlNS(lab string) string        { return nsPrefix + lab }
func hostNS(lab, host string) string { return nsPrefix + lab + "-" + host }

// VMNS is the namespace of the VM vm on host.
func (l *Lab) VMNS(host, vm string) string { return hostNS(l.Name, host) + "+" + vm }

// Host returns the host named name.
func (l *Lab) Host(name string) (*Host, bool) {
	for _, h := range l.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return nil, false
}

// Paths of the lab's shared files.
func (l *Lab) InventoryPath() string  { return filepath.Join(l.Dir, "inventory.json") }
func (l *Lab) KnownHostsPath() string { return filepath.Join(l.Dir, "known_hosts") }
func (l *Lab) KeyPath() string        { return filepath.Join(l.Dir, "client_ed25519") }
func (l *Lab) JournalPath() string    { return filepath.Join(l.Dir, "journal") }

// BinDir holds the commands the lab adds for its VMs (ping, when this
// machine has none).
func (l *Lab) BinDir() string { return filepath.Join(l.Dir, "bin") }

// TmpDir is the TMPDIR of ovnrun runs inside the lab, so that what they
// leave behind (the local ends of database tunnels, if killed) goes with it.
func (l *Lab) TmpDir() string { return filepath.Join(l.Dir, "tmp") }

// dhcpScript is the script of the VMs' DHCP clients.
func (l *Lab) dhcpScript() string { return filepath.Join(l.Dir, "udhcpc.sh") }

func (l *Lab) hostDir(name string) string { return filepath.Join(l.Dir, "hosts", name) }
func (l *Lab) vmDir(host, vm string) string {
	return filepath.Join(l.Dir, "vms", host+"+"+vm)
}

// Open returns the lab named name, or an error wrapping os.ErrNotExist
// when it is not up.
func Open(name string) (*Lab, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(BaseDir(), name)
	data, err := os.ReadFile(filepath.Join(dir, "lab.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lab %s is not up: %w", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", name, err)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("lab %s: %s: %w", name, filepath.Join(dir, "lab.json"), err)
	}
	l.Dir = dir
	for _, h := range l.Hosts {
		h.Dir = l.hostDir(h.Name)
	}
	return &l, nil
}

// List returns the names of the labs that are up, or half up (a lab
// directory or namespaces without lab.json), sorted.
func List() []string {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(BaseDir())
	for _, e := range entries {
		if e.IsDir() && nameRE.MatchString(e.Name()) {
			seen[e.Name()] = true
		}
	}
	for _, ns := range Namespaces(nsPrefix) {
		name, _, _ := strings.Cut(strings.TrimPrefix(ns, nsPrefix), "-")
		if nameRE.MatchString(name) {
			seen[name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (l *Lab) save() error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(l.Dir, "lab.json.new")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(l.Dir, "lab.json"))
}

// Down tears the lab named name down: every process in its namespaces
// (sshd, Open vSwitch, the OVN daemons, VMs' DHCP clients, a run of ovnrun
// inside it), the namespaces, and its directory. A lab that is only half
// up is torn down as well; one that is not up at all is not an error.
func Down(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	return down(name)
}

func down(name string) error {
	var errs []error
	for _, ns := range namespacesOf(name) {
		if err := RemoveNamespace(ns); err != nil {
			errs = append(errs, err)
		}
	}
	saveQEMUProbes(filepath.Join(BaseDir(), name))
	if err := os.RemoveAll(filepath.Join(BaseDir(), name)); err != nil {
		errs = append(errs, err)
	}
	if err := fitNeighbours(0, io.Discard); err != nil { // put back what this lab raised
		errs = append(errs, err)
	}
	// Leave no empty directory behind either (only removes empty ones).
	os.Remove(BaseDir())
	if os.Getenv("OVNRUN_LAB_DIR") == "" {
		os.Remove(filepath.Dir(BaseDir()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab %s: down: %w", name, err)
	}
	return nil
}

// namespacesOf lists the namespaces of the lab named name in the order
// they are torn down: VMs first (their veths' host ends go with them),
// then hosts, then the control namespace.
func namespacesOf(name string) []string {
	var vms, hosts []string
	for _, ns := range Namespaces(ctlNS(name) + "-") {
		if strings.Contains(ns, "+") {
			vms = append(vms, ns)
		} else {
			hosts = append(hosts, ns)
		}
	}
	out := append(vms, hosts...)
	if _, err := os.Stat(NamespacePath(ctlNS(name))); err == nil {
		out = append(out, ctlNS(name))
	}
	return out
}

// Processes lists the processes that run in the namespaces of the lab
// named name.
func Processes(name string) []int {
	var pids []int
	for _, ns := range namespacesOf(name) {
		pids = append(pids, PIDsIn(ns)...)
	}
	return pids
}

// Leftovers lists what exists of the lab named name: its namespaces and
// its directory. Nothing, once it is down.
func Leftovers(name string) []string {
	out := namespacesOf(name)
	if dir := filepath.Join(BaseDir(), name); exists(dir) {
		out = append(out, dir)
	}
	return out
}

// lock serialises lab up and down on this machine.
func lock() (func(), error) {
	if err := os.MkdirAll(BaseDir(), 0o700); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	f, err := os.Open(BaseDir())
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: lock %s: %w", BaseDir(), err)
	}
	return func() { f.Close() }, nil
}
