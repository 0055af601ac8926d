package labhost

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// Host is one emulated machine: a network namespace with an sshd and the
// directories its Open vSwitch and OVN daemons use.
type Host struct {
	Name    string
	NS      string // network namespace
	Addr    string // its address on the lab link (eth0)
	Dir     string
	HostKey ssh.PublicKey
	// The run, database, log and configuration directories its daemons
	// use, as OVS_RUNDIR... and OVN_RUNDIR... give them.
	OVSRundir, OVNRundir, LogDir, EtcDir string

	lab  *Lab
	env  []string // the environment of its SSH sessions
	sshd *exec.Cmd
	done chan struct{}
}

// HostOption configures AddHost.
type HostOption func(*hostConfig)

type hostConfig struct {
	password   string
	interfaces []string
	startOVS   bool
}

// WithRootPassword lets root log in with password over SSH. The host's
// sshd sees a private copy of /etc/shadow (bind-mounted in its own mount
// namespace) in which root has this password; the machine's is untouched.
func WithRootPassword(pw string) HostOption { return func(c *hostConfig) { c.password = pw } }

// WithInterfaces creates interfaces of these names in the host (veth pairs
// whose peers stay in the host), such as the ens2f1 a runbook adds to br-out.
func WithInterfaces(names ...string) HostOption {
	return func(c *hostConfig) { c.interfaces = append(c.interfaces, names...) }
}

// WithOVS starts Open vSwitch on the host (through its systemctl shim)
// before AddHost returns.
func WithOVS() HostOption { return func(c *hostConfig) { c.startOVS = true } }

// AddHost creates a host named name, with its sshd ready for connections.
func (l *Lab) AddHost(name string, opts ...HostOption) *Host {
	l.t.Helper()
	var cfg hostConfig
	for _, o := range opts {
		o(&cfg)
	}
	i := len(l.hosts)
	h := &Host{Name: name, NS: fmt.Sprintf("%s%s-h%d", nsPrefix, l.id, i), Addr: l.addr(10 + i),
		Dir: filepath.Join(l.Dir, name), lab: l}
	h.OVSRundir, h.OVNRundir = filepath.Join(h.Dir, "ovs"), filepath.Join(h.Dir, "ovn")
	h.LogDir, h.EtcDir = filepath.Join(h.Dir, "log"), filepath.Join(h.Dir, "etc")
	l.must(lab.HostDirs(h.Dir))
	l.hosts = append(l.hosts, h) // from here on, cleanup removes it
	l.must(lab.Run("ip", "netns", "add", h.NS))
	veth := fmt.Sprintf("vh%d", i)
	l.ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
	l.ip("link", "set", veth, "master", "br0", "up")
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", h.Addr + "/24", "dev", "eth0"},
		{"link", "set", "eth0", "up"},
	} {
		l.must(lab.Run("ip", append([]string{"-n", h.NS}, args...)...))
	}
	for j, ifname := range cfg.interfaces {
		l.must(lab.Run("ip", "-n", h.NS, "link", "add", ifname, "type", "veth", "peer", "name", fmt.Sprintf("peer%d", j)))
		l.must(lab.Run("ip", "-n", h.NS, "link", "set", ifname, "up"))
		l.must(lab.Run("ip", "-n", h.NS, "link", "set", fmt.Sprintf("peer%d", j), "up"))
	}
	h.env = lab.HostEnv(h.Dir)
	h.startSSHD(cfg.password)
	if cfg.startOVS {
		if out, err := h.Exec("systemctl", "start", "openvswitch"); err != nil {
			l.t.Fatalf("labhost: %s: start openvswitch: %v\n%s", name, err, out)
		}
	}
	return h
}

// startSSHD writes the host's key and sshd_config and runs sshd in the
// host's namespace, in the foreground as a child of the test.
func (h *Host) startSSHD(password string) {
	l := h.lab
	keyFile := filepath.Join(h.Dir, "etc", "ssh_host_ed25519_key")
	pub, err := lab.NewHostKey(keyFile)
	l.must(err)
	h.HostKey = pub
	conf := lab.SSHD{Listen: h.Addr, HostKey: keyFile, AuthorizedKeys: filepath.Join(l.Dir, "authorized_keys"),
		Env: h.env, Password: password != ""}.Config()
	confFile := filepath.Join(h.Dir, "etc", "sshd_config")
	l.must(os.WriteFile(confFile, []byte(conf), 0o600))
	sshdArgs := []string{"/usr/sbin/sshd", "-D", "-e", "-f", confFile, "-E", filepath.Join(h.LogDir, "sshd.log")}
	args := append([]string{"netns", "exec", h.NS}, sshdArgs...)
	if password != "" {
		shadow := h.shadowWithRootPassword(password)
		// `ip netns exec` runs in a mount namespace of its own whose mounts
		// do not propagate back: the bind is the host's alone.
		args = []string{"netns", "exec", h.NS, "sh", "-c", `mount --bind "$0" /etc/shadow && exec "$@"`, shadow}
		args = append(args, sshdArgs...)
	}
	cmd := exec.Command("ip", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("labhost: start sshd of %s: %v", h.Name, err)
	}
	h.sshd, h.done = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(h.done)
	}()
	h.waitSSHD()
}

// waitSSHD waits until sshd answers with its banner on the lab link.
func (h *Host) waitSSHD() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := h.lab.Dial(ctx, "tcp", net.JoinHostPort(h.Addr, "22"))
		cancel()
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "SSH-2.0-") {
				return
			}
			err = fmt.Errorf("banner %q: %v", line, rerr)
		}
		select {
		case <-h.done:
			h.lab.t.Fatalf("labhost: sshd of %s exited: %v\n%s", h.Name, err, lab.TailFile(filepath.Join(h.LogDir, "sshd.log"), 10))
		default:
		}
		if time.Now().After(deadline) {
			h.lab.t.Fatalf("labhost: sshd of %s is not ready: %v", h.Name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shadowWithRootPassword writes a copy of /etc/shadow in which root's
// password is pw (SHA-512 crypt, made by openssl).
func (h *Host) shadowWithRootPassword(pw string) string {
	l := h.lab
	cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(pw + "\n")
	hash, err := cmd.Output()
	if err != nil {
		l.t.Fatalf("labhost: openssl passwd: %v", err)
	}
	orig, err := os.ReadFile("/etc/shadow")
	l.must(err)
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(orig), "\n"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 && f[0] == "root" {
			f[1] = strings.TrimSpace(string(hash))
			line = strings.Join(f, ":")
		}
		lines = append(lines, line)
	}
	path := filepath.Join(h.Dir, "etc", "shadow")
	l.must(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

func (h *Host) stopSSHD() {
	if h.sshd == nil {
		return
	}
	h.sshd.Process.Kill()
	<-h.done
}

// Exec runs a command inside the host, with the environment its SSH
// sessions get, and returns its combined output. Tests use it to look at
// the host from outside ovnrun.
func (h *Host) Exec(name string, args ...string) (string, error) {
	argv := append([]string{"netns", "exec", h.NS, "env", "-i"}, h.env...)
	argv = append(argv, name)
	return lab.Output("ip", append(argv, args...)...)
}

// Pids returns the processes running in the host's namespace.
func (h *Host) Pids() []int { return lab.PIDsIn(h.NS) }

// Env returns the environment of the host's SSH sessions.
func (h *Host) Env() []string { return append([]string(nil), h.env...) }

// logTails shows the end of each of the host's logs, for failing tests.
func (h *Host) logTails(t testing.TB) {
	logs, _ := filepath.Glob(filepath.Join(h.LogDir, "*.log"))
	for _, f := range logs {
		t.Logf("labhost: %s: last lines of %s:\n%s", h.Name, filepath.Base(f), lab.TailFile(f, 8))
	}
}
