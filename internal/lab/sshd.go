package lab

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Each emulated host runs its own sshd with its own host key and a config
// of its own; its sessions get the host's OVS_RUNDIR, OVN_RUNDIR... and a
// PATH whose first directory holds the systemctl shim. Shared by the lab
// and by internal/labhost's test labs.

//go:embed systemctl.sh
var systemctlShim []byte

// SystemctlShim is the systemctl that emulated hosts run: it starts and
// stops Open vSwitch and the OVN daemons in the host's own directories.
func SystemctlShim() []byte { return systemctlShim }

// NewKey makes an ed25519 key pair.
func NewKey() (ed25519.PrivateKey, ssh.PublicKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	pub, err := ssh.NewPublicKey(key.Public())
	return key, pub, err
}

// WriteKey writes a private key in OpenSSH format, encrypted when
// passphrase is not nil.
func WriteKey(path string, key ed25519.PrivateKey, passphrase []byte) error {
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

// HostEnv is the environment of an emulated host's SSH sessions: its own
// directories for Open vSwitch and OVN, a HOME of its own (which keeps the
// machine's slow ~/.bashrc out of every command) and bin first on PATH.
func HostEnv(dir string) []string {
	return []string{
		"PATH=" + filepath.Join(dir, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + filepath.Join(dir, "home"),
		"OVS_RUNDIR=" + filepath.Join(dir, "ovs"), "OVS_DBDIR=" + filepath.Join(dir, "ovs"),
		"OVS_LOGDIR=" + filepath.Join(dir, "log"), "OVS_SYSCONFDIR=" + filepath.Join(dir, "etc"),
		"OVN_RUNDIR=" + filepath.Join(dir, "ovn"), "OVN_DBDIR=" + filepath.Join(dir, "ovn"),
		"OVN_LOGDIR=" + filepath.Join(dir, "log"), "OVN_SYSCONFDIR=" + filepath.Join(dir, "etc"),
	}
}

// HostDirs creates the directories HostEnv names, plus etc and bin with
// the systemctl shim in it.
func HostDirs(dir string) error {
	for _, d := range []string{"ovs", "ovn", "log", "etc", "bin", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "bin", "systemctl"), systemctlShim, 0o755)
}

// SSHD is the configuration of one emulated host's sshd.
type SSHD struct {
	Listen         string // address to listen on (port 22)
	HostKey        string // private host key file
	AuthorizedKeys string
	Env            []string // the sessions' environment
	Password       bool     // allow password logins
	PidFile        string   // "" when sshd runs in the foreground
	LogFile        string
}

// Config returns the text of sshd_config.
func (s SSHD) Config() string {
	pwAuth, pidFile := "no", s.PidFile
	if s.Password {
		pwAuth = "yes"
	}
	if pidFile == "" {
		pidFile = "none"
	}
	return fmt.Sprintf(`ListenAddress %s
Port 22
HostKey %s
AuthorizedKeysFile %s
# The lab's files live under /tmp or /run, which StrictModes would refuse.
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication %s
KbdInteractiveAuthentication no
MaxSessions 64
MaxStartups 64
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
PidFile %s
LogLevel VERBOSE
SetEnv %s
`, s.Listen, s.HostKey, s.AuthorizedKeys, pwAuth, pidFile, strings.Join(s.Env, " "))
}

// NewHostKey writes a new host key to path and returns its public key.
func NewHostKey(path string) (ssh.PublicKey, error) {
	key, pub, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		return nil, err
	}
	return pub, WriteKey(path, key, nil)
}

// WaitSSH waits until an sshd answers with its banner at addr, dialled
// from the namespace ns, or until timeout; alive, when not nil, reports
// whether the sshd is still running, so that a crash fails at once.
func WaitSSH(ns, addr string, timeout time.Duration, alive func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		err := InNamespace(ns, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr, "22"))
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && !strings.HasPrefix(line, "SSH-2.0-") {
				err = fmt.Errorf("banner %q", line)
			}
			return err
		})
		switch {
		case err == nil:
			return nil
		case alive != nil && !alive():
			return fmt.Errorf("sshd at %s exited: %v", addr, err)
		case time.Now().After(deadline):
			return fmt.Errorf("sshd at %s is not ready after %s: %v", addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TailFile returns the last n lines of a file, for error messages.
func TailFile(path string, n int) string {
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
