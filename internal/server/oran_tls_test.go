package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA writes a CA and a server certificate for 127.0.0.1 and
// localhost signed by it into dir; it returns the files and the CA pool.
func testCA(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return certFile, keyFile, pool
}

// TestOranTLS: with oran.tls, or api.tls inherited, the O-RAN listener
// speaks https only: a client trusting the CA gets /health and
// uriLocations on https://; plain http and a client without the CA fail.
func TestOranTLS(t *testing.T) {
	for _, tc := range []struct{ name, config string }{
		{"oran.tls", `oran: {listen: "127.0.0.1:0", tls: {cert_file: %q, key_file: %q}}`},
		{"api.tls", "api: {tls: {cert_file: %q, key_file: %q}}\noran: {listen: \"127.0.0.1:0\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile, pool := testCA(t, t.TempDir())
			b := startBridge(t, yamlf(tc.config, certFile, keyFile))
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			t.Cleanup(client.CloseIdleConnections)
			base := "https://" + b.OranAddr() + "/api/ocloudNotifications/"

			resp, err := client.Get(base + "v2/health")
			if err != nil {
				t.Fatalf("https health: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "OK" || resp.TLS == nil {
				t.Errorf("https health: %d %q", resp.StatusCode, body)
			}
			// uriLocation names the https listener (api_host's default).
			resp, err = client.Post(base+"v1/publishers", "application/json", strings.NewReader(`{"resource":"/cluster/node/tls/sync-state"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			_, port, _ := net.SplitHostPort(b.OranAddr())
			if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(field(t, body, "uriLocation"), "https://localhost:"+port+"/api/ocloudNotifications/v1/publishers/") {
				t.Errorf("POST publishers: %d %s", resp.StatusCode, body)
			}

			// Plain http is not served.
			plain := &http.Client{Timeout: 30 * time.Second}
			resp, err = plain.Get("http://" + b.OranAddr() + "/api/ocloudNotifications/v2/health")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Errorf("plain http health: %d %q", resp.StatusCode, body)
				}
			}
			// Nor a client that does not trust the CA.
			untrusting := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			t.Cleanup(untrusting.CloseIdleConnections)
			_, err = untrusting.Get(base + "v2/health")
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Errorf("a client without the CA: %v, want an unknown authority error", err)
			}
		})
	}
}
