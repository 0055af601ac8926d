// Package libvirtd runs a libvirtd, with its virtlogd, for one emulated
// hypervisor on this machine: in the hypervisor's network namespace, and in
// a private mount namespace in which libvirt's own directories are the
// caller's, so the daemons write nothing to the machine's:
//
//   - /run is a tmpfs of its own (libvirt keeps its state and virtlogd's
//     socket in /run/libvirt), except one directory of the caller's under
//     /run that stays visible at its path (a lab's files);
//   - /etc/libvirt, /var/lib/libvirt, /var/log/libvirt and
//     /var/cache/libvirt are directories under Daemons.Dir (the cache can
//     start from a shared one, so that QEMU is probed once per machine,
//     not by every daemon: cache.go).
//
// libvirtd's read-write socket is in Dir, so it has the same path inside
// the mount namespace (for sessions of a host's sshd that shares it) and
// outside; it has auth_unix_rw="none". QEMU runs as root without cgroups,
// namespaces or a security driver: these machines have no systemd, and the
// guests' files are the caller's. Everything libvirtd starts (QEMU, the
// ovs-vsctl that plugs taps, with the caller's OVS_RUNDIR) stays in the
// network namespace, so killing what runs there stops it all.
//
// Shared by internal/lab (the hosts of `ovnrun --lab --lab-vms=qemu`) and
// internal/libvirttest (the libvirt driver's tests). It imports the
// standard library only.
package libvirtd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Binaries are what Start runs, besides the shell.
var Binaries = []string{"libvirtd", "virtlogd", "qemu-system-x86_64", "qemu-img", "unshare", "nsenter", "taskset", "ip"}

// Missing lists the Binaries this machine lacks
// (scripts/install-virt-deps.sh installs them).
func Missing() []string {
	var out []string
	for _, b := range Binaries {
		if _, err := LookPath(b); err != nil {
			out = append(out, b)
		}
	}
	return out
}

// ReadyTimeout bounds waiting for each daemon.
const ReadyTimeout = 30 * time.Second

// Daemons are one hypervisor's libvirtd and virtlogd.
type Daemons struct {
	// Dir holds their configuration, state, logs, cache and socket.
	Dir string
	// SharedCache, when set, is a cache of QEMU's probed capabilities
	// (SharedCacheDir) that the daemon's own starts from, and that
	// SaveCache fills (cache.go).
	SharedCache string
}

// Socket is libvirtd's read-write socket.
func (d Daemons) Socket() string { return filepath.Join(d.Dir, "sock", "libvirt-sock") }

// LogDir is /var/log/libvirt as the daemons see it: libvirtd.log, and a
// guest's logs in qemu/ (the libvirt driver logs serial consoles there).
func (d Daemons) LogDir() string { return filepath.Join(d.Dir, "log") }

// LibDir is /var/lib/libvirt as the daemons see it.
func (d Daemons) LibDir() string { return filepath.Join(d.Dir, "lib") }

func (d Daemons) cacheDir() string { return filepath.Join(d.Dir, "cache") }

// Configuration of the daemons (see the package comment).
const (
	libvirtdConf = `unix_sock_dir = "%s"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
`
	qemuConf = `user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
`
	virtlogdConf = `log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
`
)

// Prepare makes the daemons' directories and writes their configuration.
func (d Daemons) Prepare() error {
	for _, sub := range []string{"etc/qemu", "lib/qemu", "lib/images", "log/qemu", "sock"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.cacheDir(), 0o755); err != nil {
		return err
	}
	for name, text := range map[string]string{
		"libvirtd.conf": fmt.Sprintf(libvirtdConf, filepath.Dir(d.Socket())),
		"qemu.conf":     qemuConf,
		"virtlogd.conf": virtlogdConf,
	} {
		if err := os.WriteFile(filepath.Join(d.Dir, "etc", name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// MountScript returns shell commands that, run first in a new private
// mount namespace (unshare --mount --propagation private), make it the
// daemons' (see the package comment). keep, when under /run, stays
// visible at its path: it is stashed on /etc/libvirt while the tmpfs goes
// over /run (that mount point is covered next anyway), then moved back.
// The process that holds the namespace is exec'ed after them.
func (d Daemons) MountScript(keep string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	stash := keep != "" && strings.HasPrefix(filepath.Clean(keep)+"/", "/run/")
	if stash {
		fmt.Fprintf(&b, "mount --rbind %s /etc/libvirt\n", quote(keep))
	}
	b.WriteString("mount -t tmpfs -o mode=0755 tmpfs /run\n")
	if stash {
		fmt.Fprintf(&b, "mkdir -p %s\nmount --move /etc/libvirt %s\n", quote(keep), quote(keep))
	}
	// virsh in a session of a host's sshd finds libvirtd where it looks.
	fmt.Fprintf(&b, "mkdir -p /run/libvirt\nln -s %s /run/libvirt/libvirt-sock\n", quote(d.Socket()))
	for _, m := range [][2]string{
		{filepath.Join(d.Dir, "etc"), "/etc/libvirt"},
		{d.LibDir(), "/var/lib/libvirt"},
		{d.LogDir(), "/var/log/libvirt"},
		{d.cacheDir(), "/var/cache/libvirt"},
	} {
		fmt.Fprintf(&b, "mount --bind %s %s\n", quote(m[0]), m[1])
	}
	return b.String()
}

// Start starts virtlogd and libvirtd, detached, in the network and mount
// namespaces of process pid (which ran MountScript) with the environment
// env, and returns once libvirtd accepts connections on Socket. They
// outlive the caller; whoever kills what runs in the network namespace
// stops them (and then calls SaveCache).
func (d Daemons) Start(pid int, env []string) error {
	if d.SharedCache != "" {
		if _, err := d.seedCache(); err != nil {
			return fmt.Errorf("libvirt cache: %w", err)
		}
	}
	enter := []string{"nsenter", "--target", strconv.Itoa(pid), "--mount", "--net", "--"}
	steps := []struct {
		name  string
		argv  []string
		ready func() error
	}{
		{"virtlogd", []string{"virtlogd", "--daemon", "--pid-file", d.pidFile("virtlogd")},
			func() error { return inNS(pid, "/run/libvirt/virtlogd-sock") }},
		// On CPU 0: libvirtd keeps its probe of QEMU only while the host's
		// CPUID matches the one it recorded, and CPUID tells the CPU it
		// runs on (its APIC ID). libvirt gives QEMU every CPU anyway.
		{"libvirtd", []string{"taskset", "-c", "0", "libvirtd", "--daemon", "--pid-file", d.pidFile("libvirtd"), "--config", "/etc/libvirt/libvirtd.conf"},
			func() error { return dial(d.Socket()) }},
	}
	for _, s := range steps {
		cmd := exec.Command(enter[0], append(enter[1:], s.argv...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("start %s: %w: %s%s", s.name, err, strings.TrimSpace(string(out)), d.logTail(s.name))
		}
		if err := d.wait(s.name, s.ready); err != nil {
			return err
		}
	}
	return nil
}

func (d Daemons) pidFile(name string) string { return filepath.Join(d.Dir, name+".pid") }

// wait polls ready until it succeeds, the daemon exits or ReadyTimeout
// passes.
func (d Daemons) wait(name string, ready func() error) error {
	deadline := time.Now().Add(ReadyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := ready()
		if err == nil {
			return nil
		}
		if pid, ok := readPID(d.pidFile(name)); ok && Exited(pid) {
			return fmt.Errorf("%s exited: %v%s", name, err, d.logTail(name))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready after %s: %v%s", name, ReadyTimeout, err, d.logTail(name))
		}
		time.Sleep(delay)
	}
}

// logTail is the end of a daemon's log, for errors.
func (d Daemons) logTail(name string) string {
	data, err := os.ReadFile(filepath.Join(d.LogDir(), name+".log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "\n" + strings.Join(lines, "\n")
}

// inNS checks that a socket exists in the mount namespace of pid.
func inNS(pid int, path string) error {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", pid, path))
	return err
}

func dial(path string) error {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func readPID(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid, err == nil && pid > 0
}

// Exited reports whether a process is gone or a zombie (exited daemons
// linger so for a moment).
func Exited(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			v = strings.TrimSpace(v)
			return strings.HasPrefix(v, "Z") || strings.HasPrefix(v, "X")
		}
	}
	return false
}

// LookPath also searches the sbin directories, which are not on every PATH.
func LookPath(name string) (string, error) {
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

// quote quotes s for the shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
