package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"
)

// SSHConfig is an OpenSSH client configuration file (ssh_config(5)), read
// through github.com/kevinburke/ssh_config. ovnrun takes from it what
// reaching a lab needs: Host aliases, HostName, User, Port, IdentityFile
// and ProxyJump. A host's address is the Host pattern looked up, as in
// `ssh ADDRESS`; what the runbook or the inventory says explicitly (user=,
// port=, identity_file=) wins over the file, as ssh's command line does.
type SSHConfig struct {
	Path string
	cfg  *sshconfig.Config
}

// LoadSSHConfig reads an ssh_config file.
func LoadSSHConfig(path string) (*SSHConfig, error) {
	p, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	cfg, err := sshconfig.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return &SSHConfig{Path: path, cfg: cfg}, nil
}

// DefaultSSHConfig is the user's ~/.ssh/config, nil when there is none.
func DefaultSSHConfig() (*SSHConfig, error) {
	c, err := LoadSSHConfig("~/.ssh/config")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return c, err
}

// maxJumps bounds a ProxyJump chain, also one that loops through aliases.
const maxJumps = 8

// hop is one SSH connection of a route: the jump hosts, then the target.
type hop struct {
	alias      string // what was looked up: the runbook's address or a ProxyJump entry
	user       string
	addr       string // host:port dialled
	identities []string
}

func (h hop) String() string { return h.user + "@" + h.addr }

// route returns the connections that reach t, first hop first: its
// ProxyJump chain (each jump host looked up in the file too), then t.
// Without a file it is t alone, as the runbook and inventory say.
func (c *SSHConfig) route(t Target) ([]hop, error) {
	return c.resolve(t.Address, t.User, t.Port, t.IdentityFiles, 0)
}

func (c *SSHConfig) resolve(alias, user string, port int, ids []string, depth int) ([]hop, error) {
	if depth > maxJumps {
		return nil, fmt.Errorf("ssh config %s: ProxyJump of %s: more than %d jumps (a loop?)", c.path(), alias, maxJumps)
	}
	get := func(key string) (string, error) {
		if c == nil {
			return "", nil
		}
		v, err := c.cfg.Get(alias, key)
		if err != nil {
			return "", fmt.Errorf("ssh config %s: %s of %s: %w", c.path(), key, alias, err)
		}
		return v, nil
	}
	host, err := get("HostName")
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = alias
	}
	host = strings.NewReplacer("%h", alias, "%%", "%").Replace(host)
	if user == "" {
		if user, err = get("User"); err != nil {
			return nil, err
		}
		if user == "" {
			user = "root"
		}
	}
	if port == 0 {
		v, err := get("Port")
		if err != nil {
			return nil, err
		}
		if port = 22; v != "" {
			if port, err = strconv.Atoi(v); err != nil || port < 1 || port > 65535 {
				return nil, fmt.Errorf("ssh config %s: Port of %s: %q is not a port", c.path(), alias, v)
			}
		}
	}
	if len(ids) == 0 && c != nil {
		all, err := c.cfg.GetAll(alias, "IdentityFile")
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: IdentityFile of %s: %w", c.path(), alias, err)
		}
		for _, f := range all {
			ids = append(ids, strings.ReplaceAll(f, "%h", host))
		}
	}
	target := hop{alias: alias, user: user, addr: net.JoinHostPort(host, strconv.Itoa(port)), identities: ids}
	jump, err := get("ProxyJump")
	if err != nil {
		return nil, err
	}
	if jump == "" || jump == "none" {
		if pc, _ := get("ProxyCommand"); pc != "" && pc != "none" {
			// Dialling directly instead would reach another machine, or none.
			return nil, fmt.Errorf("ssh config %s: %s uses ProxyCommand, which ovnrun does not run: use ProxyJump", c.path(), alias)
		}
		return []hop{target}, nil
	}
	var route []hop
	for _, j := range strings.Split(jump, ",") {
		ju, jh, jp, err := parseJump(strings.TrimSpace(j))
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: ProxyJump of %s: %w", c.path(), alias, err)
		}
		// Each jump is looked up like a host of its own; its own ProxyJump
		// comes first. A later jump is dialled through the earlier ones.
		hops, err := c.resolve(jh, ju, jp, nil, depth+1+len(route))
		if err != nil {
			return nil, err
		}
		if len(route) > 0 && len(hops) > 1 {
			hops = hops[len(hops)-1:] // its own jumps are replaced by the chain so far, as ssh -J does
		}
		route = append(route, hops...)
	}
	return append(route, target), nil
}

// parseJump splits a ProxyJump entry, [user@]host[:port] or
// ssh://[user@]host[:port].
func parseJump(s string) (user, host string, port int, err error) {
	s = strings.TrimPrefix(s, "ssh://")
	if s == "" {
		return "", "", 0, errors.New("empty jump host")
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	host = s
	if h, p, err := net.SplitHostPort(s); err == nil {
		host = h
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", "", 0, fmt.Errorf("jump host %q: bad port", s)
		}
	}
	if host == "" {
		return "", "", 0, fmt.Errorf("jump host %q has no host", s)
	}
	return user, host, port, nil
}

func (c *SSHConfig) path() string {
	if c == nil {
		return ""
	}
	return c.Path
}
