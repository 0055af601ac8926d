package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSSHConfigRoute(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	os.WriteFile(path, []byte(`
Host hv1
  HostName 10.0.0.5
  User lab
  Port 2222
  IdentityFile ~/.ssh/lab_ed25519
  ProxyJump bastion

Host hv2
  HostName %h.lab.example.com
  ProxyJump ops@gw1:2200,bastion

Host bastion
  HostName 192.0.2.1
  User jump
  ProxyJump outer

Host outer
  HostName 198.51.100.7

Host loop
  ProxyJump loop

Host legacy
  ProxyCommand nc %h %p

Host *
  User fallback
`), 0o600)
	cfg, err := LoadSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := func(hops []hop) string {
		s := make([]string, len(hops))
		for i, h := range hops {
			s[i] = h.String()
			if len(h.identities) > 0 {
				s[i] += "[" + strings.Join(h.identities, " ") + "]"
			}
		}
		return strings.Join(s, " > ")
	}
	for _, tc := range []struct {
		name string
		t    Target
		want string
	}{
		{"alias, its jump and the jump's own jump", Target{Address: "hv1"},
			"fallback@198.51.100.7:22 > jump@192.0.2.1:22 > lab@10.0.0.5:2222[~/.ssh/lab_ed25519]"},
		{"the runbook's user, port and key win", Target{Address: "hv1", User: "root", Port: 22, IdentityFiles: []string{"/k"}},
			"fallback@198.51.100.7:22 > jump@192.0.2.1:22 > root@10.0.0.5:22[/k]"},
		// A later jump's own ProxyJump is replaced by the chain so far, as ssh -J does.
		{"a chain of two jumps", Target{Address: "hv2"},
			"ops@gw1:2200 > jump@192.0.2.1:22 > fallback@hv2.lab.example.com:22"},
		{"an address no Host names but *", Target{Address: "10.1.1.1"}, "fallback@10.1.1.1:22"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops, err := cfg.route(tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if got := routes(hops); got != tc.want {
				t.Errorf("route = %s\nwant    %s", got, tc.want)
			}
		})
	}
	t.Run("without a file", func(t *testing.T) {
		var none *SSHConfig
		hops, err := none.route(Target{Address: "hv1"})
		if got := routes(hops); err != nil || got != "root@hv1:22" {
			t.Errorf("route = %s, %v", got, err)
		}
	})
	for _, tc := range []struct{ alias, want string }{
		{"loop", "more than 8 jumps"},
		{"legacy", "legacy uses ProxyCommand, which ovnrun does not run: use ProxyJump"},
	} {
		t.Run("refused "+tc.alias, func(t *testing.T) {
			_, err := cfg.route(Target{Address: tc.alias})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func TestParseJump(t *testing.T) {
	for _, tc := range []struct {
		in, user, host string
		port           int
		bad            bool
	}{
		{in: "gw", host: "gw"},
		{in: "ops@gw:2200", user: "ops", host: "gw", port: 2200},
		{in: "ssh://ops@[2001:db8::1]:22", user: "ops", host: "2001:db8::1", port: 22},
		{in: "gw:99999", bad: true},
		{in: "", bad: true},
	} {
		u, h, p, err := parseJump(tc.in)
		if (err != nil) != tc.bad || !tc.bad && (u != tc.user || h != tc.host || p != tc.port) {
			t.Errorf("parseJump(%q) = %q %q %d %v", tc.in, u, h, p, err)
		}
	}
}
