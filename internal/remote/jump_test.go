package remote_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// sudoPassword is the password of the target's user "lab", which sudo asks
// for; no output, log line or error may ever hold it.
const sudoPassword = "s3cret-Sudo-pw"

// jumpLab is a jump host on the lab link and a target behind it, which the
// client reaches only through the jump host, named by an ssh_config.
type jumpLab struct {
	l            *labhost.Lab
	jump, target *labhost.Host
	config       *remote.SSHConfig
}

func newJumpLab(t *testing.T) *jumpLab {
	daemons.Require(t, "sudo")
	l := labhost.New(t)
	jump := l.AddHost("jump")
	target := l.AddHost("target", labhost.Behind(jump), labhost.WithUsers(
		labhost.User{Name: "lab", Password: sudoPassword, Sudo: "password"},
		labhost.User{Name: "labnp", Password: "other-pw", Sudo: "nopasswd"},
		labhost.User{Name: "nosudo", Password: "other-pw"}))
	l.WriteKnownHosts("known_hosts")
	// The target is "target" to ssh, user lab, through ProxyJump jump.
	path := l.WriteSSHConfig("ssh_config", map[string]string{"target": "lab"})
	cfg, err := remote.LoadSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return &jumpLab{l: l, jump: jump, target: target, config: cfg}
}

func TestProxyJumpAndBecome(t *testing.T) {
	jl := newJumpLab(t)
	var log syncBuffer
	env := map[string]string{"LAB_SUDO_PW": sudoPassword, "WRONG_PW": "not-" + sudoPassword, "NOSUDO_PW": "other-pw"}
	pool := func(t *testing.T) *remote.Pool {
		return newPool(t, jl.l, remote.Config{SSHConfig: jl.config, Log: &log, Getenv: func(k string) string { return env[k] }})
	}
	p := pool(t)
	ctx := context.Background()
	var shown []string // every output and error, searched for the password
	run := func(t *testing.T, tg remote.Target, cmd remote.Command) (*remote.Result, error) {
		t.Helper()
		c, err := p.Conn(ctx, tg)
		if err != nil {
			shown = append(shown, err.Error())
			return nil, err
		}
		r, err := c.Run(ctx, cmd)
		if r != nil {
			shown = append(shown, r.Stdout, r.Stderr, r.Cmd)
		}
		if err != nil {
			shown = append(shown, err.Error())
		}
		return r, err
	}
	output := func(t *testing.T, tg remote.Target, cmd remote.Command) string {
		t.Helper()
		r, err := run(t, tg, cmd)
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			t.Fatal(err)
		}
		return r.Stdout
	}

	t.Run("through the jump host as the config's user", func(t *testing.T) {
		out := output(t, remote.Target{Name: "plain", Address: "target"}, remote.Script("id -un; hostname -I"))
		if want := "lab\n" + jl.target.Addr; !strings.HasPrefix(out, want) {
			t.Errorf("got %q, want %q...", out, want)
		}
		want := fmt.Sprintf("[plain] connected to lab@%s:22 via root@%s:22", jl.target.Addr, jl.jump.Addr)
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	})
	t.Run("become with the password from the environment", func(t *testing.T) {
		tg := remote.Target{Name: "pw", Address: "target", Become: true, BecomePasswordEnv: "LAB_SUDO_PW"}
		if out := output(t, tg, remote.Script("id -u; head -c 5 /etc/shadow")); out != "0\nroot:" {
			t.Errorf("got %q, want root's id and a line of /etc/shadow", out)
		}
		// sudo took the password from stdin: the command gets none of it.
		if out := output(t, tg, remote.Argv("cat")); out != "" {
			t.Errorf("the command read %d bytes from its stdin", len(out))
		}
		r, err := run(t, tg, remote.Script("echo to-stderr >&2; exit 3"))
		if err != nil || r.Status != 3 || r.Stderr != "to-stderr\n" {
			t.Errorf("result = %+v, %v; want status 3 and stderr without sudo's prompt", r, err)
		}
	})
	t.Run("become without a password (NOPASSWD)", func(t *testing.T) {
		tg := remote.Target{Name: "np", Address: "target", User: "labnp", Become: true}
		if out := output(t, tg, remote.Argv("id", "-u")); out != "0\n" {
			t.Errorf("got %q, want 0", out)
		}
	})
	for _, tc := range []struct {
		name string
		tg   remote.Target
		want string
	}{
		{"wrong password", remote.Target{Name: "wrong", Address: "target", Become: true, BecomePasswordEnv: "WRONG_PW"},
			"wrong: sudo refused the password in WRONG_PW (become_password_env) for `id -u`"},
		{"password needed", remote.Target{Name: "nopw", Address: "target", Become: true},
			"nopw: sudo asks for a password to run `id -u` as root: set become_password_env"},
		{"no sudo at all", remote.Target{Name: "nosudo", Address: "target", User: "nosudo", Become: true, BecomePasswordEnv: "NOSUDO_PW"},
			"nosudo: sudo did not run `id -u` as root (become=True)"},
		{"unset variable", remote.Target{Name: "unset", Address: "target", Become: true, BecomePasswordEnv: "UNSET_PW"},
			"environment variable UNSET_PW (become_password_env of host unset) is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, tc.tg, remote.Argv("id", "-u"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant one saying %q", err, tc.want)
			}
		})
	}
	t.Run("cancelled command is killed as root", func(t *testing.T) {
		tg := remote.Target{Name: "pw", Address: "target", Become: true, BecomePasswordEnv: "LAB_SUDO_PW"}
		ctx, cancel := context.WithCancel(ctx)
		c, err := p.Conn(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.Run(ctx, remote.Script("touch "+jl.l.Dir+"/started; exec sleep 3600"))
			done <- err
		}()
		waitFile(t, jl.l.Dir+"/started")
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want cancelled", err)
		}
		waitNoProcess(t, jl.target, "sleep 3600")
	})
	t.Run("known_hosts is checked for each hop", func(t *testing.T) {
		for _, known := range []*labhost.Host{jl.jump, jl.target} {
			kh := jl.l.WriteKnownHosts("only_"+known.Name, known)
			p := newPool(t, jl.l, remote.Config{SSHConfig: jl.config, KnownHosts: kh})
			_, err := p.Conn(ctx, remote.Target{Name: "h", Address: "target", IdentityFiles: []string{jl.l.ClientKey}})
			var unknown *remote.UnknownHostKeyError
			if !errors.As(err, &unknown) {
				t.Fatalf("known_hosts holding only %s: err = %v, want an unknown host key", known.Name, err)
			}
			name := "h"
			if known == jl.target {
				name = "jump, jump host of h"
			}
			if unknown.Host != name {
				t.Errorf("known_hosts holding only %s: refused %q, want %q: %v", known.Name, unknown.Host, name, err)
			}
		}
	})
	shown = append(shown, log.String())
	for _, s := range shown {
		if strings.Contains(s, sudoPassword) {
			t.Errorf("the sudo password is shown in %q", s)
		}
	}
}

// waitFile waits until path exists: the remote command has started.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for range 500 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s was not created", path)
}
