package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Network namespaces: entering one, finding and killing what runs in one,
// deleting one. Shared by the lab and by internal/labhost's test labs.

// InNamespace runs fn on an OS thread that has entered the network
// namespace ns; sockets fn creates stay in ns. The thread is thrown away
// if it cannot be returned to its own namespace.
func InNamespace(ns string, fn func() error) error {
	target, err := os.Open(NamespacePath(ns))
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: enter %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err == nil {
		runtime.UnlockOSThread() // else the locked thread exits with the goroutine
	}
	return ferr
}

// ExecInNamespace replaces this process with argv[0] running in the network
// namespace ns, and only that: unlike `ip netns exec`, the mount namespace
// stays the machine's, so namespaces the new process creates (a lab VM's)
// are visible to every other process. It returns only on failure.
func ExecInNamespace(ns string, argv, env []string) error {
	target, err := os.Open(NamespacePath(ns))
	if err != nil {
		return err
	}
	defer target.Close()
	// The namespace is per thread, and execve keeps the calling thread's.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("lab: enter %s: %w", ns, err)
	}
	return syscall.Exec(argv[0], argv, env)
}

// NamespacePath is where `ip netns` keeps the namespace named ns.
func NamespacePath(ns string) string { return "/run/netns/" + ns }

// nsfsMagic is the file system type of a namespace file that holds a
// namespace (NSFS_MAGIC in linux/magic.h).
const nsfsMagic = 0x6e736673

// NamespaceMounted reports whether ns is a namespace one can enter: its
// file under /run/netns has a namespace mounted on it. `ip netns add`
// creates the file, then mounts the namespace on it; one stopped in between
// (Ctrl-C reaches it along with ovnrun) leaves a plain file, which every
// later `ip -n` refuses and a mere existence check takes for a namespace.
func NamespaceMounted(ns string) bool {
	var st unix.Statfs_t
	return unix.Statfs(NamespacePath(ns), &st) == nil && st.Type == nsfsMagic
}

// AddNamespace creates the namespace ns with its loopback up, unless it
// exists; the file of a half-made one is removed first.
func AddNamespace(ns string) error {
	if NamespaceMounted(ns) {
		return nil
	}
	if err := os.Remove(NamespacePath(ns)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: remove the file of half-made namespace %s: %w", ns, err)
	}
	if err := Run("ip", "netns", "add", ns); err != nil {
		return err
	}
	return Run("ip", "-n", ns, "link", "set", "lo", "up")
}

// namespaceInode identifies a namespace as /proc/PID/ns/net shows it.
func namespaceInode(ns string) (string, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(NamespacePath(ns), &st); err != nil {
		return "", false
	}
	return fmt.Sprintf("net:[%d]", st.Ino), true
}

// InNamespaceNow reports whether this process runs in the namespace ns.
func InNamespaceNow(ns string) bool {
	want, ok := namespaceInode(ns)
	if !ok {
		return false
	}
	self, err := os.Readlink("/proc/self/ns/net")
	return err == nil && self == want
}

// PIDsIn lists the processes whose network namespace is ns.
func PIDsIn(ns string) []int {
	want, ok := namespaceInode(ns)
	if !ok {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && link == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Gone reports whether a process has exited: no longer in /proc, or a
// zombie waiting for its parent (exited daemons linger so for a moment).
func Gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// RemoveNamespace kills every process in ns, waits until they are gone and
// deletes ns. A namespace that does not exist is not an error.
func RemoveNamespace(ns string) error {
	if _, err := os.Stat(NamespacePath(ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive []int
		for _, pid := range PIDsIn(ns) {
			if pid != os.Getpid() && !Gone(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of namespace %s do not die", alive, ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return Run("ip", "netns", "del", ns)
}

// Namespaces lists the names of the namespaces whose name starts with
// prefix, sorted.
func Namespaces(prefix string) []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// Run runs a command on this machine and returns an error carrying its
// output when it fails.
func Run(name string, args ...string) error {
	_, err := Output(name, args...)
	return err
}

// Output runs a command on this machine, bounded to 30 s, and returns its
// standard output; its standard error goes into the error only. What a
// command prints on stderr while it succeeds is no part of what it reports:
// `ip link show` in one namespace warns "Peer netns reference is invalid"
// while any other namespace is half made, and parsed with the output that
// warning once counted as a NIC too many (issue 11).
func Output(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(string(out))
		}
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}

// LookPath finds a binary on PATH or in the sbin directories, which are not
// on every PATH (non-login shells, sudo).
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}
