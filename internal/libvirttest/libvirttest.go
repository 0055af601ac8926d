// Package libvirttest is test support: an emulated hypervisor on this
// machine, for tests of ovnrun's libvirt driver against a real libvirtd.
//
// A Host is a network namespace holding, all started by the test:
//   - optionally an Open vSwitch (ovsdb-server and ovs-vswitchd with their
//     own run directory; bridges use the userspace datapath), and an
//     ovn-controller;
//   - virtlogd and libvirtd in a private mount namespace in which /run,
//     /etc/libvirt, /var/lib/libvirt, /var/log/libvirt and
//     /var/cache/libvirt are the test's own directories, so the daemons
//     write nothing to the machine's; libvirtd's socket is in the test's
//     directory, with auth_unix_rw="none"; it has OVS_RUNDIR, so the
//     ovs-vsctl it runs to plug NICs reaches the test's Open vSwitch.
//
// QEMU guests, their taps and every packet stay in the namespace. Cleanup
// kills every process in it (so also QEMU, which libvirtd detaches),
// deletes it and removes the test's files; a Host left behind by a killed
// test run is swept by the next one.
//
// It imports the standard library only and must only be imported by tests.
package libvirttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// nsPrefix starts the name of every namespace and directory a Host
// creates, followed by the creating process's PID, so that stale ones can
// be recognized.
const nsPrefix = "ovnvirt-"

// readyTimeout bounds every wait for a daemon.
const readyTimeout = 30 * time.Second

var hostCount atomic.Int32

var binaries = []string{"libvirtd", "virtlogd", "qemu-system-x86_64", "qemu-img", "unshare", "ip"}

// Require stops the test unless it runs as root with libvirtd, virtlogd and
// QEMU installed (plus bins): it fails under CI=true, where
// scripts/install-virt-deps.sh must have run, and skips elsewhere.
func Require(t testing.TB, bins ...string) {
	t.Helper()
	var missing []string
	for _, b := range append(append([]string(nil), binaries...), bins...) {
		if _, err := lookPath(b); err != nil {
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

	t    testing.TB
	env  []string
	kids []*exec.Cmd
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

// Config files of the daemons. qemu.conf runs QEMU as root without
// cgroups, namespaces or a security driver: the test machine has no systemd
// and the guest's files are in the test's directories.
const (
	libvirtdConf = `unix_sock_dir = "%s"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:%s/libvirtd.log"
`
	qemuConf = `user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
`
	virtlogdConf = `log_outputs = "3:file:%s/virtlogd.log"
`
	// mountScript runs in the private mount namespace, then becomes
	// virtlogd; libvirtd joins the namespace afterwards.
	mountScript = `set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/libvirt
mount --bind "$D/etc" /etc/libvirt
mount --bind "$D/lib" /var/lib/libvirt
mount --bind "$D/log" /var/log/libvirt
mount --bind "$D/cache" /var/cache/libvirt
exec virtlogd --pid-file "$D/virtlogd.pid"
`
)

func (h *Host) startLibvirtd() {
	d := h.Dir
	for _, sub := range []string{"etc/qemu", "lib/qemu", "lib/images", "log/qemu", "cache/qemu", "sock", "images"} {
		h.must(os.MkdirAll(filepath.Join(d, sub), 0o755))
	}
	h.Socket = filepath.Join(d, "sock", "libvirt-sock")
	h.ImageDir = filepath.Join(d, "images")
	h.LogDir = filepath.Join(d, "log")
	conf := filepath.Join(d, "etc", "libvirtd.conf")
	h.must(os.WriteFile(conf, fmt.Appendf(nil, libvirtdConf, filepath.Join(d, "sock"), d), 0o644))
	h.must(os.WriteFile(filepath.Join(d, "etc", "qemu.conf"), []byte(qemuConf), 0o644))
	h.must(os.WriteFile(filepath.Join(d, "etc", "virtlogd.conf"), fmt.Appendf(nil, virtlogdConf, d), 0o644))

	vl := h.start("virtlogd", "ip", "netns", "exec", h.NS, "unshare", "--mount", "--propagation", "private",
		"/bin/sh", "-c", mountScript)
	vl.Env = append(vl.Env, "D="+d)
	h.must(vl.Start())
	h.waitFor("virtlogd", vl, func() error {
		_, err := os.Stat(filepath.Join(d, "virtlogd.pid"))
		return err
	})
	pid := strconv.Itoa(vl.Process.Pid)
	lv := h.start("libvirtd", "nsenter", "--target", pid, "--mount", "--net", "--",
		"libvirtd", "--pid-file", filepath.Join(d, "libvirtd.pid"), "--config", conf)
	h.must(lv.Start())
	h.waitFor("libvirtd", lv, func() error {
		c, err := net.DialTimeout("unix", h.Socket, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
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
		for _, f := range []string{"libvirtd.log", "libvirtd.out", "virtlogd.out", "ovs/ovs-vswitchd.log", "ovn/ovn-controller.log"} {
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

// exited reports whether a process is gone or a zombie.
func exited(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			return strings.HasPrefix(strings.TrimSpace(v), "Z") || strings.HasPrefix(strings.TrimSpace(v), "X")
		}
	}
	return false
}

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

// lookPath also searches the sbin directories.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + " not found")
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
