package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh/agent"

	"github.com/ovnrun/ovnrun/internal/dialguard"
)

// Target says how to reach one host. It holds the names of the variables
// that hold secrets, never the secrets.
type Target struct {
	Name    string // the host's name in the runbook
	Local   bool   // this machine, without SSH
	Address string // IP address or DNS name
	Port    int    // 22 when zero
	User    string // root when empty
	// IdentityFiles are private key files (absolute or ~/); when empty the
	// agent and OpenSSH's default key files are tried.
	IdentityFiles []string
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string
	// PassphraseEnv names the environment variable holding the passphrase
	// of encrypted identity files.
	PassphraseEnv string
	// OVSRundir and OVNRundir are where the host's Open vSwitch and OVN
	// daemons put their sockets; DefaultOVSRundir and DefaultOVNRundir
	// when empty.
	OVSRundir, OVNRundir string
	// LibvirtSocket is libvirtd's socket on the host; "" for the libvirt
	// driver's default.
	LibvirtSocket string
	// Become runs the host's commands as root through sudo when the login
	// user is not root. BecomePasswordEnv names the environment variable
	// holding sudo's password; without it sudo must not ask (NOPASSWD).
	Become            bool
	BecomePasswordEnv string
}

// Default run directories of the Open vSwitch and OVN packages.
const (
	DefaultOVSRundir = "/var/run/openvswitch"
	DefaultOVNRundir = "/var/run/ovn"
)

func (t Target) port() int {
	if t.Port == 0 {
		return 22
	}
	return t.Port
}

func (t Target) user() string {
	if t.User == "" {
		return "root"
	}
	return t.User
}

// OVSDir returns the host's Open vSwitch run directory.
func (t Target) OVSDir() string {
	if t.OVSRundir == "" {
		return DefaultOVSRundir
	}
	return t.OVSRundir
}

// OVNDir returns the host's OVN run directory.
func (t Target) OVNDir() string {
	if t.OVNRundir == "" {
		return DefaultOVNRundir
	}
	return t.OVNRundir
}

// String describes how the host is reached, for plans and messages.
func (t Target) String() string {
	if t.Local {
		return "local"
	}
	return fmt.Sprintf("%s@%s", t.user(), net.JoinHostPort(t.Address, fmt.Sprint(t.port())))
}

// Config configures a Pool.
type Config struct {
	// KnownHosts is the known_hosts file checked and, with
	// AcceptNewHostKeys, extended; ~/.ssh/known_hosts when empty.
	KnownHosts string
	// AcceptNewHostKeys records the key of a host known_hosts does not
	// know instead of refusing it. A changed key is refused regardless.
	AcceptNewHostKeys bool
	// DialTimeout bounds connecting, the SSH handshake and
	// authentication; 10 s when zero.
	DialTimeout time.Duration
	// KeepAlive is the interval of SSH keepalives, 5 s when zero; a host
	// that misses one is disconnected, so a host that vanishes fails the
	// commands waiting on it within two intervals. Negative disables them.
	KeepAlive time.Duration
	// Dial opens the TCP connection; a net.Dialer when nil. Tests use it
	// to dial from inside a network namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// AgentSocket is the ssh-agent socket; $SSH_AUTH_SOCK when empty,
	// none when "none".
	AgentSocket string
	// Getenv reads the secrets' variables; os.LookupEnv when nil.
	Getenv func(string) string
	// Log receives one line per connection; discarded when nil.
	Log io.Writer
	// SSHConfig, when set, says how a target's address is reached: its
	// HostName, User, Port, IdentityFile and ProxyJump (see SSHConfig).
	SSHConfig *SSHConfig
}

// Pool holds one connection per host for a run. It dials a host the first
// time Conn asks for it and hands every later caller the same connection
// (or the same error: an unreachable host costs one timeout per run, not
// one per action). It is safe for concurrent use.
type Pool struct {
	cfg       Config
	keys      *hostKeys
	sshConfig *SSHConfig

	mu    sync.Mutex
	conns map[string]*poolEntry

	agentOnce   sync.Once
	agentConn   net.Conn
	agentClient agent.ExtendedAgent
	logMu       sync.Mutex
}

type poolEntry struct {
	ready chan struct{} // closed once conn or err is set
	conn  Conn
	err   error
}

// NewPool returns an empty pool.
func NewPool(cfg Config) (*Pool, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 5 * time.Second
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := dialguard.Check(network, addr); err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.KnownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("known hosts: %w", err)
		}
		cfg.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	kh, err := expandHome(cfg.KnownHosts)
	if err != nil {
		return nil, err
	}
	return &Pool{cfg: cfg, keys: &hostKeys{path: kh, acceptNew: cfg.AcceptNewHostKeys}, sshConfig: cfg.SSHConfig,
		conns: map[string]*poolEntry{}}, nil
}

// Conn returns the connection to t, dialling it on first use. Targets are
// told apart by name: a run has one target per host name.
func (p *Pool) Conn(ctx context.Context, t Target) (Conn, error) {
	p.mu.Lock()
	if p.conns == nil {
		p.mu.Unlock()
		return nil, errors.New("remote: pool is closed")
	}
	e, ok := p.conns[t.Name]
	if !ok {
		e = &poolEntry{ready: make(chan struct{})}
		p.conns[t.Name] = e
	}
	p.mu.Unlock()
	if !ok {
		e.conn, e.err = p.dial(ctx, t)
		close(e.ready)
	}
	select {
	case <-e.ready:
		return e.conn, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) dial(ctx context.Context, t Target) (Conn, error) {
	if t.Local {
		return NewLocal(t.Name), nil
	}
	if t.Address == "" {
		return nil, fmt.Errorf("host %s has no address", t.Name)
	}
	if err := errors.Join(checkEnvName("password_env", t.PasswordEnv), checkEnvName("passphrase_env", t.PassphraseEnv),
		checkEnvName("become_password_env", t.BecomePasswordEnv)); err != nil {
		return nil, fmt.Errorf("host %s: %w", t.Name, err)
	}
	t0 := time.Now()
	c, err := p.dialSSH(ctx, t)
	if err != nil {
		return nil, err // not a typed nil in the Conn
	}
	slog.Debug("ssh connected", "host", t.Name, "address", t.Address, "took", time.Since(t0))
	return c, nil
}

// Close closes every connection; the pool cannot be used afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	var errs []error
	for _, e := range conns {
		<-e.ready
		if e.conn != nil {
			errs = append(errs, e.conn.Close())
		}
	}
	if p.agentConn != nil {
		p.agentConn.Close()
	}
	return errors.Join(errs...)
}

func (p *Pool) logf(format string, args ...any) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(p.cfg.Log, strings.TrimRight(msg, "\n"))
}
