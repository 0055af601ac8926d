package remote_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// TestSecretsNeverShown logs in with a password and with an encrypted key,
// each read from an environment variable, once right and once wrong, and
// checks that no secret, and no line of the key file, appears in any error,
// log line or description of the target.
func TestSecretsNeverShown(t *testing.T) {
	const (
		password   = "pw-Corr3ct-h0rse"
		wrongPW    = "pw-Wr0ng-battery"
		passphrase = "pp-Stap1e-s3cret"
		wrongPP    = "pp-B4d-guess"
	)
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithRootPassword(password))
	l.WriteKnownHosts("known_hosts")
	keyFile := l.WriteClientKey("encrypted_ed25519", passphrase)
	env := map[string]string{}
	var shown strings.Builder // everything a user could see
	ctx := context.Background()

	try := func(name string, tgt remote.Target, wantOK bool) {
		t.Helper()
		var log syncBuffer
		p := newPool(t, l, remote.Config{Log: &log, Getenv: func(k string) string { return env[k] }})
		c, err := p.Conn(ctx, tgt)
		if err == nil {
			var out string
			out, err = remote.Output(ctx, c, remote.Argv("id", "-un"))
			shown.WriteString(out)
		}
		if wantOK != (err == nil) {
			t.Errorf("%s: err = %v, want success %v", name, err, wantOK)
		}
		if err != nil {
			shown.WriteString(err.Error() + "\n")
		}
		shown.WriteString(log.String() + tgt.String() + "\n")
	}
	pwTarget := remote.Target{Name: "h0", Address: h.Addr, PasswordEnv: "LAB_H0_PASSWORD", IdentityFiles: []string{}}
	env["LAB_H0_PASSWORD"] = wrongPW
	try("wrong password", pwTarget, false)
	env["LAB_H0_PASSWORD"] = password
	try("password", pwTarget, true)
	delete(env, "LAB_H0_PASSWORD")
	try("password variable unset", pwTarget, false)

	keyTarget := remote.Target{Name: "h0", Address: h.Addr, IdentityFiles: []string{keyFile}, PassphraseEnv: "LAB_KEY_PASSPHRASE"}
	env["LAB_KEY_PASSPHRASE"] = wrongPP
	try("wrong passphrase", keyTarget, false)
	env["LAB_KEY_PASSPHRASE"] = passphrase
	try("passphrase", keyTarget, true)
	keyTarget.PassphraseEnv = ""
	try("no passphrase", keyTarget, false)

	out := shown.String()
	for _, want := range []string{"root\n", "the password in $LAB_H0_PASSWORD; the server refused", "environment variable LAB_H0_PASSWORD (password_env of host h0) is not set",
		"cannot decrypt it with the passphrase in LAB_KEY_PASSPHRASE", "is encrypted: add it to ssh-agent, or set passphrase_env"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	secrets := []string{password, wrongPW, passphrase, wrongPP}
	for _, f := range []string{keyFile, l.ClientKey} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, line)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a secret is shown: %q in\n%s", s, out)
		}
	}
}
