package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// envName is what password_env and passphrase_env must look like: the name
// of an environment variable. Refusing anything else keeps a password
// pasted there by mistake out of every message (it is never echoed).
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkEnvName(field, v string) error {
	if v != "" && !envName.MatchString(v) {
		return fmt.Errorf("%s must name an environment variable (letters, digits and _), and not hold the secret itself", field)
	}
	return nil
}

// defaultIdentities are tried, like OpenSSH does, when a host names none.
var defaultIdentities = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}

// authMethods returns how to authenticate to t: every key (the agent's and
// the identity files') in one publickey method, since x/crypto/ssh tries
// each method name once; then the password, if t names its variable. It
// reads secrets from the environment now, at dial time, and never puts them
// in an error. offered says what was offered (never a secret), notes are
// harmless reasons a key was skipped.
func (p *Pool) authMethods(t Target) (methods []ssh.AuthMethod, offered, notes []string, err error) {
	var signers []ssh.Signer
	if ag := p.agent(); ag != nil {
		ss, err := ag.Signers()
		if err != nil {
			notes = append(notes, fmt.Sprintf("ssh-agent: %v", err))
		}
		signers = append(signers, ss...)
		offered = append(offered, fmt.Sprintf("%d key(s) of ssh-agent", len(ss)))
	}
	files, explicit := t.IdentityFiles, true
	if len(files) == 0 {
		files, explicit = defaultIdentities, false
	}
	for _, f := range files {
		s, err := p.loadIdentity(t, f)
		switch {
		case err == nil:
			signers = append(signers, s)
			offered = append(offered, "identity file "+f)
		case !explicit && errors.Is(err, os.ErrNotExist):
		case errors.Is(err, errNeedPassphrase) && len(signers) > 0:
			notes = append(notes, err.Error())
		default:
			return nil, nil, nil, err
		}
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if t.PasswordEnv != "" {
		pw, ok := p.getenv(t.PasswordEnv)
		if !ok || pw == "" {
			return nil, nil, nil, fmt.Errorf("environment variable %s (password_env of host %s) is not set", t.PasswordEnv, t.Name)
		}
		offered = append(offered, "the password in $"+t.PasswordEnv)
		methods = append(methods, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, nil, nil, fmt.Errorf("host %s: no way to authenticate: no ssh-agent (SSH_AUTH_SOCK), no identity file "+
			"(identity_file=, or one of %s) and no password_env", t.Name, strings.Join(defaultIdentities, ", "))
	}
	return methods, offered, notes, nil
}

var errNeedPassphrase = errors.New("needs a passphrase")

// loadIdentity reads a private key file, decrypting it with the passphrase
// from t.PassphraseEnv if it is encrypted.
func (p *Pool) loadIdentity(t Target, file string) (ssh.Signer, error) {
	path, err := expandHome(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity file of host %s: %w", t.Name, err)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case !errors.As(err, &missing):
		// Parse errors name no key bytes; keep only the file in the message.
		return nil, fmt.Errorf("identity file %s of host %s: not a private key ovnrun can read: %v", path, t.Name, err)
	case t.PassphraseEnv == "":
		return nil, fmt.Errorf("identity file %s of host %s is encrypted: add it to ssh-agent, or set passphrase_env "+
			"to the name of an environment variable holding its passphrase: %w", path, t.Name, errNeedPassphrase)
	}
	pass, ok := p.getenv(t.PassphraseEnv)
	if !ok || pass == "" {
		return nil, fmt.Errorf("environment variable %s (passphrase_env of host %s) is not set", t.PassphraseEnv, t.Name)
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(pass))
	if err != nil {
		// The error of a wrong passphrase says only that it is wrong.
		return nil, fmt.Errorf("identity file %s of host %s: cannot decrypt it with the passphrase in %s", path, t.Name, t.PassphraseEnv)
	}
	return s, nil
}

// agent returns the ssh-agent client, connecting on first use; nil when no
// agent is configured or reachable.
func (p *Pool) agent() agent.ExtendedAgent {
	p.agentOnce.Do(func() {
		sock := p.cfg.AgentSocket
		if sock == "" {
			sock, _ = p.getenv("SSH_AUTH_SOCK")
		}
		if sock == "" || sock == "none" {
			return
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			p.logf("ssh-agent at %s: %v; not using it", sock, err)
			return
		}
		p.agentConn = c
		p.agentClient = agent.NewClient(c)
	})
	return p.agentClient
}

func (p *Pool) getenv(name string) (string, bool) {
	if p.cfg.Getenv != nil {
		v := p.cfg.Getenv(name)
		return v, v != ""
	}
	return os.LookupEnv(name)
}

// expandHome resolves a leading ~/ against the user's home directory.
func expandHome(path string) (string, error) {
	if !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return filepath.Join(home, path[2:]), nil
}
