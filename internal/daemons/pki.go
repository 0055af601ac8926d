package daemons

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PKI is a public key infrastructure made by ovs-pki, as OVN deployments
// make theirs: ovs-pki init creates two CAs (controllerca, switchca); the
// server's certificate is signed by one and the client's by the other, so a
// client that trusts the wrong one is refused, which tests can use.
type PKI struct {
	Dir        string
	ServerKey  string // the server's private key
	ServerCert string // the server's certificate, signed by ServerCA
	ServerCA   string // what clients verify the server with (controllerca)
	ClientKey  string // a client's private key
	ClientCert string // a client's certificate, signed by ClientCA
	ClientCA   string // what the server verifies clients with (switchca)
}

// NewPKI runs ovs-pki init and req+sign in dir (created), and returns the
// files' absolute paths.
func NewPKI(t testing.TB, dir string) *PKI {
	t.Helper()
	Require(t, "ovs-pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("daemons: %v", err)
	}
	pki := filepath.Join(dir, "ca")
	bin, err := lookPath("ovs-pki")
	if err != nil {
		t.Fatalf("daemons: %v", err)
	}
	log := filepath.Join(dir, "ovs-pki.log")
	ovsPKI := func(args ...string) {
		t.Helper()
		args = append([]string{"--dir=" + pki, "--log=" + log}, args...)
		// In dir: req+sign NAME writes NAME-privkey.pem and NAME-cert.pem
		// there, and NAME becomes the certificate's common name, which may
		// not exceed 64 bytes, so it cannot be a path.
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("daemons: ovs-pki %s: %v\n%s%s", strings.Join(args, " "), err, out, tail(log, 10))
		}
	}
	ovsPKI("init")
	ovsPKI("-b", "req+sign", "server", "controller") // -b: no fingerprint prompt
	ovsPKI("-b", "req+sign", "client", "switch")
	return &PKI{
		Dir:        dir,
		ServerKey:  filepath.Join(dir, "server-privkey.pem"),
		ServerCert: filepath.Join(dir, "server-cert.pem"),
		ServerCA:   filepath.Join(pki, "controllerca", "cacert.pem"),
		ClientKey:  filepath.Join(dir, "client-privkey.pem"),
		ClientCert: filepath.Join(dir, "client-cert.pem"),
		ClientCA:   filepath.Join(pki, "switchca", "cacert.pem"),
	}
}
