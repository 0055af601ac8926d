package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// An NB served over ssl: with ovs-pki's certificates: the runbook names the
// files relative to itself; dry-run, apply and a second dry-run (no changes)
// go through every connection ovnrun makes (libovsdb, replica,
// transactions), then graph --nb and import --nb. The flags override the
// runbook's files: a wrong CA, or a certificate the server does not trust,
// is refused naming the endpoint, a missing key naming the file.
func TestSSLNB(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "ovs-pki")
	nb := daemons.StartNB(t, daemons.WithSSL())
	pki := nb.PKI
	// The runbook sits in the PKI's directory and names its files
	// relative to it; the test runs from the repository root.
	runbook := filepath.Join(pki.Dir, "ssl.star")
	src := `ovn_nb("` + nb.SSL + `", private_key="client-privkey.pem", certificate="client-cert.pem",
       ca_cert="ca/controllerca/cacert.pem")
step("topology", lambda: [ls("sw0", subnet="10.0.0.0/24"), lsp("sw0", "p0", mac="02:00:00:00:00:01", ips=["10.0.0.5"])])
`
	if err := os.WriteFile(runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := "--journal=" + filepath.Join(t.TempDir(), "journal")
	switches := func() string {
		out, err := nb.NBCtl("--bare", "--columns=name", "list", "Logical_Switch")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}

	stdout, stderr, code := ovnrun(t, "--dry-run", "--no-color", journal, runbook)
	if code != exitOK || !strings.Contains(stdout, "Plan: 2 to add, 0 to change, 0 to destroy.") {
		t.Fatalf("dry-run over ssl: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := switches(); got != "" {
		t.Fatalf("a dry-run changed the NB: switches %q", got)
	}
	if stdout, stderr, code = ovnrun(t, "--no-color", "--yes", journal, runbook); code != exitOK {
		t.Fatalf("apply over ssl: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := switches(); got != "sw0" {
		t.Fatalf("after apply over ssl the switches are %q, want sw0", got)
	}
	if stdout, stderr, code = ovnrun(t, "--dry-run", "--no-color", journal, runbook); code != exitOK || !strings.HasSuffix(stdout, "\nNo changes.\n") {
		t.Errorf("dry-run after apply: exit %d\n%s%s", code, stdout, stderr)
	}

	// graph --nb and import --nb read over ssl with the flags alone.
	files := []string{"--ovn-private-key", pki.ClientKey, "--ovn-certificate", pki.ClientCert, "--ovn-ca-cert", pki.ServerCA}
	stdout, stderr, code = ovnrun(t, append([]string{"graph", "--nb", nb.SSL, "--format", "dot"}, files...)...)
	if code != exitOK || !strings.Contains(stdout, "sw0") {
		t.Errorf("graph --nb over ssl: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = ovnrun(t, append([]string{"import", "--include-owned", "--nb", nb.SSL}, files...)...)
	if code != exitOK || !strings.Contains(stdout, `ls("sw0"`) {
		t.Errorf("import --nb over ssl: exit %d\n%s%s", code, stdout, stderr)
	}

	missing := filepath.Join(pki.Dir, "missing-privkey.pem")
	for _, tc := range []struct {
		name  string
		flags []string
		want  []string
	}{
		// The client's own CA did not sign the server's certificate.
		{"wrong CA", []string{"--ovn-ca-cert", pki.ClientCA},
			[]string{"cannot connect to the Northbound database at " + nb.SSL, "is not signed by the CA certificate " + pki.ClientCA}},
		// The server's own pair: its CA is not the one the server trusts
		// for clients. With TLS 1.3 the refusal comes after the client's
		// handshake: the error is the server's alert, or a broken pipe
		// when ovnrun's first request is written after the server closed.
		{"untrusted client", []string{"--ovn-private-key", pki.ServerKey, "--ovn-certificate", pki.ServerCert},
			[]string{"cannot connect to the Northbound database at " + nb.SSL}},
		{"missing key", []string{"--ovn-private-key", missing},
			[]string{"nb: " + nb.SSL + ": private key: open " + missing + ": no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--dry-run", "--no-color", journal, "--nb-timeout=5s"}, tc.flags...)
			stdout, stderr, code := ovnrun(t, append(args, runbook)...)
			if code != exitFailure {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitFailure, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// An ssl: NB without the three files is refused before dialing, saying
// which flags and keywords give them.
func TestSSLNBNeedsFiles(t *testing.T) {
	runbook := filepath.Join(t.TempDir(), "ssl.star")
	src := `ovn_nb("ssl:127.0.0.1:1")
step("topology", lambda: ls("sw0"))
`
	if err := os.WriteFile(runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := ovnrun(t, "--dry-run", "--journal="+filepath.Join(t.TempDir(), "journal"), runbook)
	want := "nb: ssl:127.0.0.1:1 needs --ovn-private-key, --ovn-certificate and --ovn-ca-cert (or ovn_nb(..., private_key=, certificate=, ca_cert=))"
	if code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr does not say %q:\n%s%s", code, want, stdout, stderr)
	}
}
