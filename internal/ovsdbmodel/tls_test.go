package ovsdbmodel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// Every path to an ssl: NB (libovsdb's Open and Connect, Replicate and
// Transact) uses the certificates, against an ovsdb-server that demands a
// client certificate and serves one made by ovs-pki; and refuses the server
// with the wrong CA.
func TestSSL(t *testing.T) {
	nb := daemons.StartNB(t, daemons.WithSSL())
	t.Run("wrong CA", func(t *testing.T) { sslWrongCA(t, nb) })
	pki := nb.PKI
	cfg, err := TLSFiles{PrivateKey: pki.ClientKey, Certificate: pki.ClientCert, CACert: pki.ServerCA}.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eps := []string{nb.SSL}

	db, err := Open(ctx, eps, "OVN_Northbound", WithTLS(cfg))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	schema := db.Schema()
	rep, err := Replicate(ctx, db.Endpoint(), &schema, map[string][]string{"Logical_Switch": {"name"}}, WithTLS(cfg))
	if err != nil {
		t.Fatalf("Replicate: %v", err)
	}
	defer rep.Close()
	ops := []ovsdb.Operation{{Op: ovsdb.OperationInsert, Table: "Logical_Switch", Row: ovsdb.Row{"name": "sw0"}}}
	res, err := Transact(ctx, db.Endpoint(), "OVN_Northbound", ops, WithTLS(cfg))
	if err != nil || res[0].Error != "" {
		t.Fatalf("Transact: %v %+v", err, res)
	}
	conn, err := Connect(ctx, eps, "OVN_Northbound", map[string][]string{"Logical_Switch": {"name"}}, WithTLS(cfg))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer conn.Close()
	rows, err := conn.List(ctx, "Logical_Switch")
	if err != nil || len(rows) != 1 {
		t.Fatalf("Connect's cache: %d rows, %v; want sw0", len(rows), err)
	}
	if got, _ := Get(rows[0], "name"); got != "sw0" {
		t.Errorf("Connect's cache has %v, want sw0", got)
	}
}

// sslWrongCA checks that a server whose certificate the CA does not sign
// is refused by every path, naming the endpoint and the CA certificate.
func sslWrongCA(t *testing.T, nb *daemons.Server) {
	pki := nb.PKI
	// ClientCA signed the client's certificate, not the server's.
	cfg, err := TLSFiles{PrivateKey: pki.ClientKey, Certificate: pki.ClientCert, CACert: pki.ClientCA}.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := ovsdb.DatabaseSchema{Name: "OVN_Northbound", Tables: map[string]ovsdb.TableSchema{"Logical_Switch": {}}}
	_, errOpen := Open(ctx, []string{nb.SSL}, "OVN_Northbound", WithTLS(cfg))
	_, errRep := Replicate(ctx, nb.SSL, &schema, map[string][]string{"Logical_Switch": nil}, WithTLS(cfg))
	_, errTx := Transact(ctx, nb.SSL, "OVN_Northbound", nil, WithTLS(cfg))
	for what, err := range map[string]error{"Open": errOpen, "Replicate": errRep, "Transact": errTx} {
		if err == nil {
			t.Errorf("%s with the wrong CA: no error", what)
			continue
		}
		for _, want := range []string{nb.SSL, "not signed by the CA certificate " + pki.ClientCA} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s with the wrong CA: %v\nwant it to name %q", what, err, want)
			}
		}
	}
}

func TestTLSFilesLoadErrors(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(pem, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		files TLSFiles
		want  string
	}{
		{TLSFiles{Certificate: pem, CACert: pem}, "the private key is not given"},
		{TLSFiles{PrivateKey: pem, CACert: pem}, "the certificate is not given"},
		{TLSFiles{PrivateKey: missing, Certificate: pem, CACert: pem}, "private key: open " + missing + ": no such file"},
		{TLSFiles{PrivateKey: pem, Certificate: missing, CACert: pem}, "certificate: open " + missing + ": no such file"},
		{TLSFiles{PrivateKey: pem, Certificate: pem, CACert: pem}, "private key " + pem + " and certificate " + pem},
	} {
		_, err := tc.files.Load()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%+v) = %v, want %q", tc.files, err, tc.want)
		}
	}
}
