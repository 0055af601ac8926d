package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostKeyError says that a host offered a key known_hosts does not
// hold. ovnrun refuses it unless told to accept new keys.
type UnknownHostKeyError struct {
	Host, Addr  string // runbook name, host:port dialled
	KeyType     string
	Fingerprint string // SHA256:...
	KnownHosts  string
}

func (e *UnknownHostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	return fmt.Sprintf("host %s (%s): unknown %s host key %s, not in %s; ovnrun does not trust a new key silently. "+
		"Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then add it with "+
		"`ssh-keyscan -p %s -t %s %s >> %s`, or run once with --accept-new-host-keys to record it",
		e.Host, e.Addr, e.KeyType, e.Fingerprint, e.KnownHosts, keyFileType(e.KeyType), port, keyFileType(e.KeyType), host, e.KnownHosts)
}

// ChangedHostKeyError says that a host offered a key other than the one
// known_hosts holds for it: a reinstalled host or a man in the middle.
// ovnrun always refuses it.
type ChangedHostKeyError struct {
	Host, Addr  string
	KeyType     string
	Fingerprint string
	Known       []string // "file:line: type fingerprint" of each known key
}

func (e *ChangedHostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	name := host
	if port != "22" {
		name = "[" + host + "]:" + port
	}
	return fmt.Sprintf("host %s (%s): host key CHANGED: it offered %s %s, but known_hosts has %s. Someone may be "+
		"intercepting the connection, or the host was reinstalled; ovnrun never accepts a changed key. If the change "+
		"is expected, remove the old key with `ssh-keygen -R '%s'` and add the new one",
		e.Host, e.Addr, e.KeyType, e.Fingerprint, strings.Join(e.Known, "; "), name)
}

// keyFileType maps a key type to the name sshd gives its host key file.
func keyFileType(t string) string {
	switch {
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.HasPrefix(t, "ecdsa"):
		return "ecdsa"
	case t == ssh.KeyAlgoRSA:
		return "rsa"
	}
	return t
}

// hostKeys checks host keys against one known_hosts file and, when allowed,
// records new ones in it.
type hostKeys struct {
	path      string
	acceptNew bool
	mu        sync.Mutex // serializes appends by concurrent dials
}

// callback returns the HostKeyCallback for one dial and the host key
// algorithms to ask for: those of the keys known for addr, so that a host
// with a known RSA key is not mistaken for a changed one because it would
// prefer to show its ed25519 key. refused receives the error the callback
// returned, so the caller can report it whole.
func (k *hostKeys) callback(name, addr string, refused *error) (ssh.HostKeyCallback, []string, error) {
	check, err := k.load()
	if err != nil {
		return nil, nil, err
	}
	algos := knownAlgorithms(check, addr)
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := k.verify(check, name, addr, remote, key)
		*refused = err
		return err
	}
	return cb, algos, nil
}

func (k *hostKeys) load() (ssh.HostKeyCallback, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, err := os.Stat(k.path); errors.Is(err, os.ErrNotExist) {
		return knownhosts.New() // no file: every key is unknown
	}
	cb, err := knownhosts.New(k.path)
	if err != nil {
		return nil, fmt.Errorf("known hosts %s: %w", k.path, err)
	}
	return cb, nil
}

func (k *hostKeys) verify(check ssh.HostKeyCallback, name, addr string, remote net.Addr, key ssh.PublicKey) error {
	err := check(addr, remote, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("host %s (%s): its host key %s is revoked in %s", name, addr, ssh.FingerprintSHA256(key), re.Revoked.Filename)
	case !errors.As(err, &ke):
		return fmt.Errorf("host %s (%s): checking its host key: %w", name, addr, err)
	case len(ke.Want) > 0:
		known := make([]string, len(ke.Want))
		for i, w := range ke.Want {
			known[i] = fmt.Sprintf("%s:%d: %s %s", w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key))
		}
		return &ChangedHostKeyError{Host: name, Addr: addr, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Known: known}
	case !k.acceptNew:
		return &UnknownHostKeyError{Host: name, Addr: addr, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), KnownHosts: k.path}
	}
	return k.add(addr, key)
}

// add appends the line for addr's new key, creating the file (and its
// directory) private to the user if needed.
func (k *hostKeys) add(addr string, key ssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fmt.Errorf("known hosts: %w", err)
	}
	f, err := os.OpenFile(k.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("known hosts: %w", err)
	}
	_, werr := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("known hosts %s: %w", k.path, err)
	}
	return nil
}

// knownAlgorithms returns the host key algorithms of the keys known for
// addr, nil when none is known. It asks the callback about a key that
// matches nothing: the mismatch error lists every known key of addr.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	var ke *knownhosts.KeyError
	if !errors.As(check(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		for _, a := range algorithmsFor(w.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// probeKey is an all-zero ed25519 key, which no host has.
var probeKey, _ = ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))

// algorithmsFor maps a key type to the signature algorithms that prove it.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
