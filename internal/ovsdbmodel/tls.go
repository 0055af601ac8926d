package ovsdbmodel

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles are the PEM files an ssl: connection to an ovsdb-server needs, as
// ovs-pki makes them and ovn-nbctl takes them (--private-key, --certificate,
// --ca-cert). ovsdb-server asks every client for a certificate signed by its
// own CA, so all three are needed.
type TLSFiles struct {
	PrivateKey  string // this client's private key
	Certificate string // this client's certificate
	CACert      string // the CA certificate that signed the server's certificate
}

// IsZero reports whether no file is named.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// Load reads the files and returns the client configuration. The server's
// certificate is checked against the CA certificate alone, as OVS itself
// does: certificates made by ovs-pki name no host, so the endpoint's host is
// not compared with the certificate.
func (f TLSFiles) Load() (*tls.Config, error) {
	var missing []string
	for _, m := range []struct{ what, path string }{
		{"private key", f.PrivateKey}, {"certificate", f.Certificate}, {"CA certificate", f.CACert}} {
		if m.path == "" {
			missing = append(missing, m.what)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ssl needs a private key, a certificate and a CA certificate; the %s is not given", missing[0])
	}
	key, err := os.ReadFile(f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	cert, err := os.ReadFile(f.Certificate)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("private key %s and certificate %s: %w", f.PrivateKey, f.Certificate, err)
	}
	ca, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate in it", f.CACert)
	}
	caPath := f.CACert
	return &tls.Config{
		// Always sent: Go would send none when the server's list of CAs
		// does not name its issuer, and "certificate required" hides why.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil },
		MinVersion:           tls.VersionTLS12,
		// Go's own check would compare the host name too; VerifyConnection
		// checks the chain alone.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots, caPath)
		},
	}, nil
}

// verifyChain checks that the server's certificate chains to roots.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, caPath string) error {
	if len(certs) == 0 {
		return errors.New("the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("the server's certificate %q is not signed by the CA certificate %s: %w", certs[0].Subject.CommonName, caPath, err)
	}
	return nil
}
