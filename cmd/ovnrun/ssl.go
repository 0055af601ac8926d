package main

import (
	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

// addSSLFlags adds the files of an ssl: NB, as ovn-nbctl names them; they
// override the runbook's ovn_nb(private_key=, certificate=, ca_cert=).
// Relative paths are relative to the working directory.
func addSSLFlags(fs *pflag.FlagSet, f *ovsdbmodel.TLSFiles) {
	fs.StringVar(&f.PrivateKey, "ovn-private-key", "", "for an ssl: NB, ovnrun's private key `FILE` (PEM, as ovs-pki makes it)")
	fs.StringVar(&f.Certificate, "ovn-certificate", "", "for an ssl: NB, ovnrun's certificate `FILE`, signed by the CA the NB trusts")
	fs.StringVar(&f.CACert, "ovn-ca-cert", "", "for an ssl: NB, the CA certificate `FILE` that signed the NB's certificate")
}
