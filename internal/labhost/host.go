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
	via  *Host    // the jump host it is reached through; nil: on the lab link
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
	behind     *Host
	users      []User
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
		Dir: filepath.Join(l.Dir, name), lab: l, via: cfg.behind}
	if h.via != nil {
		h.Addr = l.backAddr(10 + i)
	}
	h.OVSRundir, h.OVNRundir = filepath.Join(h.Dir, "ovs"), filepath.Join(h.Dir, "ovn")
	h.LogDir, h.EtcDir = filepath.Join(h.Dir, "log"), filepath.Join(h.Dir, "etc")
	l.must(lab.HostDirs(h.Dir))
	l.hosts = append(l.hosts, h) // from here on, cleanup removes it
	l.must(lab.Run("ip", "netns", "add", h.NS))
	veth := fmt.Sprintf("vh%d", i)
	if h.via != nil {
		l.linkBehind(h, veth)
	} else {
		l.ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
		l.ip("link", "set", veth, "master", "br0", "up")
	}
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
	h.startSSHD(cfg.password, cfg.users)
	if cfg.startOVS {
		if out, err := h.Exec("systemctl", "start", "openvswitch"); err != nil {
			l.t.Fatalf("labhost: %s: start openvswitch: %v\n%s", name, err, out)
		}
	}
	return h
}

// startSSHD writes the host's key and sshd_config and runs sshd in the
// host's namespace, in the foreground as a child of the test.
func (h *Host) startSSHD(password string, users []User) {
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
	if binds := h.accounts(password, users); len(binds) > 0 {
		// `ip netns exec` runs in a mount namespace of its own whose mounts
		// do not propagate back: the binds are the host's alone, and its
		// sessions (sudo too) see them.
		script := ""
		var files []string
		for _, b := range binds {
			script += fmt.Sprintf(`mount --bind "$%d" %s && `, len(files), b[1])
			files = append(files, b[0])
		}
		args = append([]string{"netns", "exec", h.NS, "sh", "-c", script + `shift ` + fmt.Sprint(len(files)-1) + ` && exec "$@"`}, files...)
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
		c, err := h.dialFromOutside(ctx, net.JoinHostPort(h.Addr, "22"))
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
