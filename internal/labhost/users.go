package labhost

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// User is a non-root login of a host, which the lab's client key reaches.
type User struct {
	Name     string
	Password string // its login (and sudo) password
	// Sudo is what sudoers lets it do: "" nothing, "password" run anything
	// as root after giving Password, "nopasswd" without a password.
	Sudo string
}

// WithUsers adds non-root users to the host. Like WithRootPassword, the
// accounts (passwd, shadow, group, sudoers) are private copies that only
// the host's sshd and its sessions see; the machine's are untouched.
func WithUsers(users ...User) HostOption {
	return func(c *hostConfig) { c.users = append(c.users, users...) }
}

// Behind puts the host on a link of its own to jump: the lab's client
// namespace cannot reach it, only jump can (an SSH ProxyJump).
func Behind(jump *Host) HostOption { return func(c *hostConfig) { c.behind = jump } }

// backAddr is address i of the link behind a jump host.
func (l *Lab) backAddr(i int) string {
	a := l.Subnet.Addr().As4()
	a[1], a[3] = 214, byte(i)
	return netip.AddrFrom4(a).String()
}

// linkBehind links h to its jump host by a veth, h's end named eth0.
func (l *Lab) linkBehind(h *Host, veth string) {
	l.t.Helper()
	jump := h.via.NS
	l.must(lab.Run("ip", "-n", jump, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS))
	l.must(lab.Run("ip", "-n", jump, "addr", "add", l.backAddr(1)+"/24", "dev", veth))
	l.must(lab.Run("ip", "-n", jump, "link", "set", veth, "up"))
}

// dialFromOutside dials addr from where the host is reached: the lab's
// client namespace, or its jump host's namespace.
func (h *Host) dialFromOutside(ctx context.Context, addr string) (net.Conn, error) {
	if h.via == nil {
		return h.lab.Dial(ctx, "tcp", addr)
	}
	var conn net.Conn
	err := lab.InNamespace(h.via.NS, func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return conn, err
}

// accounts writes the host's private account files and returns the binds
// (file, where it is mounted) that put them in place; none when root's
// password and the users are the machine's own.
func (h *Host) accounts(rootPassword string, users []User) [][2]string {
	l := h.lab
	var binds [][2]string
	edit := func(name string, mode os.FileMode, change func(lines []string) []string) {
		orig, err := os.ReadFile(name)
		l.must(err)
		lines := change(strings.Split(strings.TrimRight(string(orig), "\n"), "\n"))
		path := filepath.Join(h.Dir, "etc", filepath.Base(name))
		l.must(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), mode))
		binds = append(binds, [2]string{path, name})
	}
	if rootPassword == "" && len(users) == 0 {
		return nil
	}
	edit("/etc/shadow", 0o600, func(lines []string) []string {
		for i, line := range lines {
			if f := strings.Split(line, ":"); len(f) > 2 && f[0] == "root" && rootPassword != "" {
				f[1] = h.hashPassword(rootPassword)
				lines[i] = strings.Join(f, ":")
			}
		}
		for _, u := range users {
			lines = append(lines, fmt.Sprintf("%s:%s:19000:0:99999:7:::", u.Name, h.hashPassword(u.Password)))
		}
		return lines
	})
	if len(users) == 0 {
		return binds
	}
	// sshd reads authorized_keys as the user: the lab's directory must let
	// it through (it holds no secret a user could read: keys are 0600).
	l.must(os.Chmod(l.Dir, 0o711))
	l.must(os.Chmod(filepath.Join(l.Dir, "authorized_keys"), 0o644))
	sudoers := "Defaults env_reset\nDefaults timestamp_timeout=0\nDefaults lecture=never\nroot ALL=(ALL:ALL) ALL\n"
	edit("/etc/passwd", 0o644, func(lines []string) []string {
		for i, u := range users {
			uid := 64100 + i
			home := filepath.Join(h.Dir, "home", u.Name)
			l.must(os.MkdirAll(home, 0o700))
			l.must(os.Chown(home, uid, uid))
			lines = append(lines, fmt.Sprintf("%s:x:%d:%d::%s:/bin/sh", u.Name, uid, uid, home))
			switch u.Sudo {
			case "password":
				sudoers += u.Name + " ALL=(ALL:ALL) ALL\n"
			case "nopasswd":
				sudoers += u.Name + " ALL=(ALL:ALL) NOPASSWD: ALL\n"
			}
		}
		return lines
	})
	edit("/etc/group", 0o644, func(lines []string) []string {
		for i, u := range users {
			lines = append(lines, fmt.Sprintf("%s:x:%d:", u.Name, 64100+i))
		}
		return lines
	})
	// sudo reads only a sudoers owned by root and not writable by others.
	path := filepath.Join(h.Dir, "etc", "sudoers")
	l.must(os.WriteFile(path, []byte(sudoers), 0o440))
	return append(binds, [2]string{path, "/etc/sudoers"})
}

// hashPassword returns pw's SHA-512 crypt, made by openssl.
func (h *Host) hashPassword(pw string) string {
	cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(pw + "\n")
	hash, err := cmd.Output()
	if err != nil {
		h.lab.t.Fatalf("labhost: openssl passwd: %v", err)
	}
	return strings.TrimSpace(string(hash))
}

// WriteSSHConfig writes an ssh_config in which each host of the lab is a
// Host alias, its Name: HostName its address, the lab's client key, the
// login users says (root when it names none), and ProxyJump through the
// host it is Behind. It returns the file's path.
func (l *Lab) WriteSSHConfig(name string, users map[string]string) string {
	var b strings.Builder
	for _, h := range l.hosts {
		fmt.Fprintf(&b, "Host %s\n  HostName %s\n  IdentityFile %s\n", h.Name, h.Addr, l.ClientKey)
		if u := users[h.Name]; u != "" {
			fmt.Fprintf(&b, "  User %s\n", u)
		}
		if h.via != nil {
			fmt.Fprintf(&b, "  ProxyJump %s\n", h.via.Name)
		}
	}
	path := filepath.Join(l.Dir, name)
	l.must(os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}
