package ovn

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// An NB served over ssl: (ovsdb-server --remote=pssl:PORT with OVS's PKI)
// asks every client for a certificate signed by its CA and presents its own,
// so ovnrun needs three files, as ovn-nbctl does: its private key, its
// certificate, and the CA certificate that signed the server's. They come
// from --ovn-private-key, --ovn-certificate and --ovn-ca-cert, or from
// ovn_nb(..., private_key=, certificate=, ca_cert=); each flag overrides
// its keyword. Every connection to the NB (libovsdb's, the replica's, the
// transactions') uses them.

// Settings of ovn_nb() that name the files.
const (
	settingPrivateKey  = "nb_private_key"
	settingCertificate = "nb_certificate"
	settingCACert      = "nb_ca_cert"
)

// sslFlagHint names where the files come from, for errors.
const sslFlagHint = "--ovn-private-key, --ovn-certificate and --ovn-ca-cert (or ovn_nb(..., private_key=, certificate=, ca_cert=))"

// connectOptions returns the options of every connection to the NB.
func (cfg *NBConfig) connectOptions() ([]ovsdbmodel.Option, error) {
	return ConnectOptions(cfg.Endpoints, cfg.SSL)
}

// ConnectOptions returns the options of connections to endpoints: with an
// ssl: endpoint, the TLS configuration read from files. A missing or
// unreadable file is an error naming the endpoint and the file.
func ConnectOptions(endpoints []string, files ovsdbmodel.TLSFiles) ([]ovsdbmodel.Option, error) {
	var ssl string
	for _, ep := range endpoints {
		if strings.HasPrefix(ep, "ssl:") {
			ssl = ep
			break
		}
	}
	if ssl == "" {
		return nil, nil
	}
	if files.IsZero() {
		return nil, fmt.Errorf("nb: %s needs %s", ssl, sslFlagHint)
	}
	tc, err := files.Load()
	if err != nil {
		return nil, fmt.Errorf("nb: %s: %w", ssl, err)
	}
	return []ovsdbmodel.Option{ovsdbmodel.WithTLS(tc)}, nil
}

// refusedHint explains a TLS alert from the server: it refused ovnrun's
// certificate. crypto/tls reports an alert as a *net.OpError "remote
// error"; libovsdb keeps only its text.
func refusedHint(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" || strings.Contains(err.Error(), "remote error: tls:") {
		return " (the NB refused ovnrun's certificate: it must be signed by a CA the NB trusts, its ovsdb-server's --ca-cert or the ca_cert of its SSL table)"
	}
	return ""
}

// sslFiles are the files of the flags, each overriding the runbook's
// ovn_nb() keyword.
func sslFiles(flags ovsdbmodel.TLSFiles, plan *interp.Plan) ovsdbmodel.TLSFiles {
	pick := func(flag, key string) string {
		if flag != "" {
			return flag
		}
		v, _ := plan.Setting(key)
		s, _ := v.(string)
		return s
	}
	return ovsdbmodel.TLSFiles{
		PrivateKey:  pick(flags.PrivateKey, settingPrivateKey),
		Certificate: pick(flags.Certificate, settingCertificate),
		CACert:      pick(flags.CACert, settingCACert),
	}
}
