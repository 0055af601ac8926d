package labhost

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// RequireLab stops the test unless this machine can bring up an emulated
// lab (lab.Requirements): under CI=true that is a failure, elsewhere the
// test is skipped.
func RequireLab(t testing.TB) {
	t.Helper()
	if missing := lab.Requirements(); len(missing) > 0 {
		msg := "lab: needs " + strings.Join(missing, ", ") + " (run scripts/install-deps.sh as root)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

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
		if _, err := lab.LookPath(b); err != nil {
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

// newKey makes an ed25519 key pair.
func newKey(t testing.TB) (ed25519.PrivateKey, ssh.PublicKey) {
	key, pub, err := lab.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
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
	l.must(lab.WriteKey(path, key, pp))
	f, err := os.OpenFile(filepath.Join(l.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0o600)
	l.must(err)
	_, err = f.Write(ssh.MarshalAuthorizedKey(pub))
	l.must(errors.Join(err, f.Close()))
	return path
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
			lab.RemoveNamespace(e.Name())
		}
	}
	dirs, _ := os.ReadDir("/tmp")
	for _, e := range dirs {
		if e.IsDir() && stale(e.Name()) {
			os.RemoveAll(filepath.Join("/tmp", e.Name()))
		}
	}
}
