package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "temporal.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, DNSNames: []string{"temporal.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certPath, keyPath
}

func TestTemporalTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)

	var none tlsFlags
	if cfg, err := none.config(); cfg != nil || err != nil {
		t.Fatalf("no flags: %v, %v; want a plain connection", cfg, err)
	}
	mtls := tlsFlags{ca: cert, cert: cert, key: key, serverName: "temporal.test"}
	cfg, err := mtls.config()
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "temporal.test" {
		t.Fatalf("mutual TLS: %+v, %v", cfg, err)
	}
	t.Setenv("DAG_TEMPORAL_TLS", "1")
	var env tlsFlags
	env.resolve()
	if cfg, err := env.config(); err != nil || cfg == nil || cfg.RootCAs != nil {
		t.Fatalf("DAG_TEMPORAL_TLS=1: %+v, %v; want TLS with the system roots", cfg, err)
	}

	for name, bad := range map[string]tlsFlags{
		"--temporal-tls-ca":   {ca: filepath.Join(dir, "missing.pem")},
		"no PEM certificate":  {ca: key + ".nothing"},
		"go together":         {cert: cert},
		"--temporal-tls-cert": {cert: key, key: key},
	} {
		if bad.ca == key+".nothing" {
			os.WriteFile(bad.ca, []byte("not a certificate"), 0o600)
		}
		if _, err := bad.config(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%+v: %v, want an error naming %q", bad, err, name)
		}
	}
	// The flags reach the dial: a TLS client against a plain server fails
	// with the address in one line instead of hanging.
	code, _, errs := dag(t, "status", "--home", t.TempDir(), "--temporal", "127.0.0.1:1", "--temporal-tls-ca", cert)
	if code == 0 || !strings.Contains(errs, "127.0.0.1:1") {
		t.Errorf("status over TLS to a closed port: exit %d, %q", code, errs)
	}
}
