package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestTokens(t *testing.T) {
	sum := sha256.Sum256([]byte("reader-token-0123456789"))
	wsum := sha256.Sum256([]byte("writer-token-0123456789"))
	_, url := start(t, `
api:
  tokens:
    admin: {token: admin-token-0123456789, scopes: [admin]}
    writer: {sha256: "`+hex.EncodeToString(wsum[:])+`", scopes: [write]}
    reader: {sha256: "`+hex.EncodeToString(sum[:])+`", scopes: [read]}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	ctx := ctxT(t)
	anon, _ := client.New(url)
	if _, err := anon.List(ctx, client.KindTarget, nil); !client.IsUnauthorized(err) {
		t.Errorf("no token: %v", err)
	}
	wrong, _ := client.New(url, client.WithToken("wrong-token-0123456789"))
	if _, err := wrong.List(ctx, client.KindTarget, nil); !client.IsUnauthorized(err) {
		t.Errorf("wrong token: %v", err)
	}
	reader, _ := client.New(url, client.WithToken("reader-token-0123456789"))
	if _, err := reader.Get(ctx, client.KindTarget, "t"); err != nil {
		t.Errorf("reader get: %v", err)
	}
	if _, _, err := reader.Put(ctx, client.KindTarget, "x", map[string]any{"type": "log"}, nil); !client.IsForbidden(err) {
		t.Errorf("reader put: %v", err)
	}
	writer, _ := client.New(url, client.WithToken("writer-token-0123456789"))
	if _, err := writer.Purge(ctx, "r", nil); !client.IsForbidden(err) || !strings.Contains(err.Error(), "admin") {
		t.Errorf("writer purge: %v", err)
	}
	admin, _ := client.New(url, client.WithToken("admin-token-0123456789"), client.WithHTTPClient(&http.Client{}), client.WithTimeout(5*time.Second), client.WithUserAgent("test"))
	if _, _, err := admin.Put(ctx, client.KindTarget, "x", map[string]any{"type": "log"}, nil); err != nil {
		t.Errorf("admin put: %v", err)
	}
	if _, err := admin.Purge(ctx, "r", nil); err != nil {
		t.Errorf("admin purge: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	newCert(t, dir, "client", ca, caKey)
	p := func(n string) string { return filepath.Join(dir, n) }
	_, url := start(t, `
api:
  tls: {cert_file: `+p("server.pem")+`, key_file: `+p("server.key")+`, client_ca_file: `+p("ca.pem")+`, client_scopes: [read]}
targets: {t: {type: log, file: /dev/null}}
`)
	if !strings.HasPrefix(url, "https://") {
		t.Fatal(url)
	}
	ctx := ctxT(t)
	noCert, err := client.New(url, client.WithTLS(p("ca.pem"), "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noCert.List(ctx, client.KindTarget, nil); !client.IsUnauthorized(err) {
		t.Errorf("without a client certificate: %v", err)
	}
	withCert, err := client.New(url, client.WithTLS(p("ca.pem"), p("client.pem"), p("client.key")))
	if err != nil {
		t.Fatal(err)
	}
	if l, err := withCert.List(ctx, client.KindTarget, nil); err != nil || len(l.Items) != 1 {
		t.Errorf("with a client certificate: %v %v", err, l)
	}
	if _, _, err := withCert.Put(ctx, client.KindTarget, "x", map[string]any{"type": "log"}, nil); !client.IsForbidden(err) {
		t.Errorf("the certificate's scope is read: %v", err)
	}
	untrusting, _ := client.New(url)
	if _, err := untrusting.List(ctx, client.KindTarget, nil); err == nil || client.StatusCode(err) != 0 {
		t.Errorf("an unknown CA was trusted: %v", err)
	}

	for _, opts := range [][]client.Option{
		{client.WithTLS(p("nope.pem"), "", "")},
		{client.WithTLS(p("server.key"), "", "")},
		{client.WithTLS("", p("client.pem"), "")},
		{client.WithTLS("", p("client.pem"), p("ca.pem"))},
		{client.WithHTTPClient(&http.Client{Transport: roundTripper{}}), client.WithTLS("", "", "")},
	} {
		if _, err := client.New(url, opts...); err == nil {
			t.Errorf("bad TLS options accepted")
		}
	}
}

type roundTripper struct{}

func (roundTripper) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, http.ErrNotSupported
}

// newCert writes NAME.pem and NAME.key: a CA when parent is nil, else a
// certificate for 127.0.0.1 signed by parent.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	} else {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	_ = os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func TestErrorsWithoutProblem(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<h1>bad gateway</h1>"))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL + "/prefix/")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(ctxT(t), client.KindRule, "x")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 502 || ce.Title != "Bad Gateway" || ce.Detail != "<h1>bad gateway</h1>" || ce.RetryAfter != 3*time.Second {
		t.Fatalf("%#v", err)
	}
	if c.BaseURL() != srv.URL+"/prefix" {
		t.Errorf("base %s", c.BaseURL())
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
