package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/dagproject/dag/errdefs"
)

// tlsFlags configure TLS (and mutual TLS) to a Temporal cluster; unset,
// the connection is plain, as to the embedded server.
type tlsFlags struct {
	enabled    bool
	ca         string
	cert       string
	key        string
	serverName string
}

func (t *tlsFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&t.enabled, "temporal-tls", false, "connect to Temporal over TLS with the system's roots (env DAG_TEMPORAL_TLS=1; implied by the other --temporal-tls-* flags)")
	f.StringVar(&t.ca, "temporal-tls-ca", "", "PEM file of the CA that signed the Temporal server's certificate (env DAG_TEMPORAL_TLS_CA)")
	f.StringVar(&t.cert, "temporal-tls-cert", "", "client certificate PEM for mutual TLS (env DAG_TEMPORAL_TLS_CERT)")
	f.StringVar(&t.key, "temporal-tls-key", "", "client key PEM for mutual TLS (env DAG_TEMPORAL_TLS_KEY)")
	f.StringVar(&t.serverName, "temporal-tls-server-name", "", "server name to verify instead of the address's host (env DAG_TEMPORAL_TLS_SERVER_NAME)")
}

// resolve fills unset flags from the environment.
func (t *tlsFlags) resolve() {
	env := func(v *string, name string) {
		if *v == "" {
			*v = os.Getenv(name)
		}
	}
	env(&t.ca, "DAG_TEMPORAL_TLS_CA")
	env(&t.cert, "DAG_TEMPORAL_TLS_CERT")
	env(&t.key, "DAG_TEMPORAL_TLS_KEY")
	env(&t.serverName, "DAG_TEMPORAL_TLS_SERVER_NAME")
	if v := os.Getenv("DAG_TEMPORAL_TLS"); v == "1" || v == "true" {
		t.enabled = true
	}
}

// config returns the TLS configuration, nil for a plain connection. Bad
// files are InvalidArgument naming the file.
func (t *tlsFlags) config() (*tls.Config, error) {
	if !t.enabled && t.ca == "" && t.cert == "" && t.key == "" && t.serverName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.serverName}
	if t.ca != "" {
		pem, err := os.ReadFile(t.ca)
		if err != nil {
			return nil, fmt.Errorf("--temporal-tls-ca: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--temporal-tls-ca %s: no PEM certificate in it: %w", t.ca, errdefs.ErrInvalidArgument)
		}
		cfg.RootCAs = pool
	}
	if (t.cert == "") != (t.key == "") {
		return nil, fmt.Errorf("--temporal-tls-cert and --temporal-tls-key go together: %w", errdefs.ErrInvalidArgument)
	}
	if t.cert != "" {
		pair, err := tls.LoadX509KeyPair(t.cert, t.key)
		if err != nil {
			return nil, fmt.Errorf("--temporal-tls-cert %s / --temporal-tls-key %s: %v: %w", t.cert, t.key, err, errdefs.ErrInvalidArgument)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
