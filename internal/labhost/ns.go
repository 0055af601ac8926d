package labhost

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Require stops the test unless it can build a lab: root, and every binary
// a lab host runs. Under CI=true that is a failure, since CI must have run
// scripts/install-deps.sh; elsewhere the test is skipped.
func Require(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, b := range []string{"ip", "sshd", "ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl",
		"ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "timeout", "openssl"} {
		if _, err := lookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "labhost: needs " + strings.Join(missing, ", ") + " (run scripts/install-deps.sh as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func lookPath(name string) (string, error) {
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

// newKey makes an ed25519 key pair.
func newKey(t testing.TB) (ed25519.PrivateKey, ssh.PublicKey) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
}

// writeKey writes a private key in OpenSSH format, encrypted when
// passphrase is set.
func writeKey(path string, key ed25519.PrivateKey, passphrase []byte) error {
	var block *pem.Block
	var err error
	if passphrase != nil {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "ovnrun-lab", passphrase)
	} else {
		block, err = ssh.MarshalPrivateKey(key, "ovnrun-lab")
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// WriteClientKey writes a new key pair that every host of the lab accepts,
// encrypted with passphrase when it is not empty, and returns the private
// key file.
func (l *Lab) WriteClientKey(name, passphrase string) string {
	key, pub := newKey(l.t)
	var pp []byte
	if passphrase != "" {
		pp = []byte(passphrase)
	}
	path := filepath.Join(l.Dir, name)
	l.must(writeKey(path, key, pp))
	f, err := os.OpenFile(filepath.Join(l.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0o600)
	l.must(err)
	_, err = f.Write(ssh.MarshalAuthorizedKey(pub))
	l.must(errors.Join(err, f.Close()))
	return path
}

// pidsIn lists the processes whose network namespace is ns.
func pidsIn(ns string) []int {
	var st syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+ns, &st); err != nil {
		return nil
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
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

// gone reports whether a process has exited: no longer in /proc, or a
// zombie waiting for its parent (exited daemons linger so for a moment).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// removeNamespace kills every process in ns, waits until they are gone and
// deletes ns.
func removeNamespace(ns string) error {
	if _, err := os.Stat("/run/netns/" + ns); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive []int
		for _, pid := range pidsIn(ns) {
			if !gone(pid) {
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
	return run("ip", "netns", "del", ns)
}

// sweepStale removes the namespaces and files of labs whose test process
// is gone (a run killed by a timeout), with whatever still runs in them.
func sweepStale() {
	stale := func(name string) bool {
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			return false
		}
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		return err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) != nil
	}
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if stale(e.Name()) {
			removeNamespace(e.Name())
		}
	}
	dirs, _ := os.ReadDir("/tmp")
	for _, e := range dirs {
		if e.IsDir() && stale(e.Name()) {
			os.RemoveAll(filepath.Join("/tmp", e.Name()))
		}
	}
}
