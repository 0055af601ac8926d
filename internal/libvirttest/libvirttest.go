// Package libvirttest is test support: an emulated hypervisor on this
// machine, for tests of ovnrun's libvirt driver against a real libvirtd.
//
// A Host is a network namespace holding, all started by the test:
//   - optionally an Open vSwitch (ovsdb-server and ovs-vswitchd with their
//     own run directory; bridges use the userspace datapath), and an
//     ovn-controller;
//   - virtlogd and libvirtd, started by internal/libvirtd in a private
//     mount namespace in which /run, /etc/libvirt, /var/lib/libvirt,
//     /var/log/libvirt and /var/cache/libvirt are the test's own
//     directories, so the daemons write nothing to the machine's;
//     libvirtd's socket is in the test's directory, with
//     auth_unix_rw="none"; it has OVS_RUNDIR, so the ovs-vsctl it runs to
//     plug NICs reaches the test's Open vSwitch.
//
// QEMU guests, their taps and every packet stay in the namespace. Cleanup
// kills every process in it (so also QEMU, which libvirtd detaches),
// deletes it and removes the test's files; a Host left behind by a killed
// test run is swept by the next one.
//
// It imports the standard library and internal/libvirtd, and must only be
// imported by tests.
package libvirttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/libvirtd"
)

// nsPrefix starts the name of every namespace and directory a Host
// creates, followed by the creating process's PID, so that stale ones can
// be recognized.
const nsPrefix = "ovnvirt-"

// readyTimeout bounds every wait for a daemon.
const readyTimeout = 30 * time.Second

var hostCount atomic.Int32

// Require stops the test unless it runs as root with libvirtd, virtlogd and
// QEMU installed (plus bins): it fails under CI=true, where
// scripts/install-virt-deps.sh must have run, and skips elsewhere.
func Require(t testing.TB, bins ...string) {
	t.Helper()
	missing := libvirtd.Missing()
	for _, b := range bins {
		if _, err := libvirtd.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	msg := ""
	switch {
	case os.Geteuid() != 0:
		msg = "libvirttest: needs root"
	case len(missing) > 0:
		msg = fmt.Sprintf("libvirttest: %s not installed (run scripts/install-virt-deps.sh as root)", strings.Join(missing, ", "))
	default:
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Host is an emulated hypervisor with its own libvirtd.
type Host struct {
	NS  string // the network namespace everything runs in
	Dir string // the test's files
	// Socket is libvirtd's read-write socket, reachable from the test.
	Socket string
	// ImageDir is a directory for the driver's images and disks.
	ImageDir string
	// LogDir is /var/log/libvirt as libvirtd sees it (domain logs are in
	// LogDir/qemu).
	LogDir string
	// OVSRundir holds the Open vSwitch's db.sock; "" without WithOVS.
	OVSRundir string

	t      testing.TB
	env    []string
	kids   []*exec.Cmd
	holder int // the process holding the daemons' mount namespace
}

// Option configures Start.
type Option func(*config)

type config struct{ ovs bool }

// WithOVS starts an Open vSwitch in the namespace before libvirtd.
func WithOVS() Option { return func(c *config) { c.ovs = true } }

// Start creates a Host and returns once libvirtd accepts connections.
func Start(t testing.TB, opts ...Option) *Host {
	t.Helper()
	Require(t)
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	sweepStale()
	id := fmt.Sprintf("%d-%d", os.Getpid(), hostCount.Add(1))
	dir, err := os.MkdirTemp("/tmp", nsPrefix+id+"-")
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{NS: nsPrefix + id, Dir: dir, t: t}
	t.Cleanup(h.close) // from here on, cleanup removes everything
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.must(run("ip", "netns", "add", h.NS))
	h.must(run("ip", "-n", h.NS, "link", "set", "lo", "up"))
	h.env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	if cfg.ovs {
		h.startOVS()
	}
	h.startLibvirtd()
	return h
}

func (h *Host) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("libvirttest: %v", err)
	}
}

// startLibvirtd starts libvirtd and virtlogd (internal/libvirtd) in the
// namespace and in a private mount namespace, held by a process of the
// test's own.
func (h *Host) startLibvirtd() {
	d := libvirtd.Daemons{Dir: h.Dir, SharedCache: libvirtd.SharedCacheDir}
	h.must(d.Prepare())
	h.must(os.MkdirAll(filepath.Join(h.Dir, "images"), 0o755))
	h.Socket, h.LogDir = d.Socket(), d.LogDir()
	h.ImageDir = filepath.Join(h.Dir, "images")
	holder := h.start("mountns", "ip", "netns", "exec", h.NS, "unshare", "--mount", "--propagation", "private",
		"/bin/sh", "-c", d.MountScript("")+"exec sleep infinity\n")
	h.must(holder.Start())
	h.waitFor("mountns", holder, func() error {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", holder.Process.Pid))
		if err == nil && strings.TrimSpace(string(comm)) != "sleep" {
			err = errors.New("mounting")
		}
		return err
	})
	h.holder = holder.Process.Pid
	h.must(d.Start(h.holder, h.env))
}

// InMountNS returns the path at which this process reaches path as the
// daemons see it, such as a guest channel's socket that libvirt put in
// /var/lib/libvirt.
func (h *Host) InMountNS(path string) string {
	return fmt.Sprintf("/proc/%d/root%s", h.holder, path)
}

// start prepares a daemon child: output in DIR/NAME.out, the namespace's
// environment, and SIGKILL if the test binary dies.
func (h *Host) start(name string, argv ...string) *exec.Cmd {
	out, err := os.Create(filepath.Join(h.Dir, name+".out"))
	h.must(err)
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdout, c.Stderr = out, out
	c.Env = append([]string(nil), h.env...)
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h.kids = append(h.kids, c)
	return c
}

// waitFor polls ready, failing the test at the timeout or when the daemon
// exits, with the end of its output.
func (h *Host) waitFor(name string, c *exec.Cmd, ready func() error) {
	h.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := ready()
		if err == nil {
			return
		}
		if c != nil && c.Process != nil && exited(c.Process.Pid) {
			h.t.Fatalf("libvirttest: %s exited: %v\n%s", name, err, tail(filepath.Join(h.Dir, name+".out"), 15))
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("libvirttest: timed out waiting for %s: %v\n%s", name, err, tail(filepath.Join(h.Dir, name+".out"), 15))
		}
		time.Sleep(delay)
	}
}

// Exec runs a command in the host's namespace, with its OVS_RUNDIR, and
// returns its combined output.
func (h *Host) Exec(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS}, argv...)...)
	c.Env = h.env
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ConsoleLog returns what the guest of domain printed on its serial
// console so far (the driver logs it to /var/log/libvirt/qemu).
func (h *Host) ConsoleLog(domain string) string {
	data, _ := os.ReadFile(filepath.Join(h.LogDir, "qemu", domain+"-console.log"))
	return string(data)
}

// close kills every process in the namespace, deletes it and removes the
// test's files; it logs the daemons' last words when the test failed.
func (h *Host) close() {
	if h.t.Failed() {
		for _, f := range []string{"log/libvirtd.log", "log/virtlogd.log", "mountns.out", "ovs/ovs-vswitchd.log", "ovn/ovn-controller.log"} {
			if p := filepath.Join(h.Dir, f); fileExists(p) {
				h.t.Logf("libvirttest: last lines of %s:\n%s", f, tail(p, 10))
			}
		}
	}
	if err := removeNamespace(h.NS); err != nil {
		h.t.Errorf("libvirttest: %v", err)
	}
	for _, c := range h.kids {
		if c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	libvirtd.Daemons{Dir: h.Dir, SharedCache: libvirtd.SharedCacheDir}.SaveCache()
	os.RemoveAll(h.Dir)
}

// removeNamespace kills every process in ns, waits until they are gone
// (zombies count as gone: init reaps them a moment later) and deletes it.
func removeNamespace(ns string) error {
	if !fileExists("/run/netns/" + ns) {
		return nil
	}
	pids := nsPids(ns)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, p := range pids {
			syscall.Kill(p, sig)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			left := pids[:0]
			for _, p := range pids {
				if !exited(p) {
					left = append(left, p)
				}
			}
			if pids = left; len(pids) == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(pids) == 0 {
			break
		}
	}
	if len(pids) > 0 {
		return fmt.Errorf("processes %v of namespace %s would not die", pids, ns)
	}
	return run("ip", "netns", "del", ns)
}

// nsPids lists the processes in a namespace.
func nsPids(ns string) []int {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

func exited(pid int) bool { return libvirtd.Exited(pid) }

// sweepStale removes the namespaces and directories of Hosts whose test
// process is gone.
func sweepStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if pid, ok := stalePID(e.Name()); ok && !alive(pid) {
			removeNamespace(e.Name())
		}
	}
	dirs, _ := filepath.Glob("/tmp/" + nsPrefix + "*")
	for _, d := range dirs {
		if pid, ok := stalePID(filepath.Base(d)); ok && !alive(pid) {
			os.RemoveAll(d)
		}
	}
}

// stalePID parses the creating PID out of "ovnvirt-PID-N...".
func stalePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, nsPrefix)
	if !ok {
		return 0, false
	}
	f, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(f)
	return pid, err == nil
}

func alive(pid int) bool { return !exited(pid) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run runs a command on this machine, returning its output in the error.
func run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
