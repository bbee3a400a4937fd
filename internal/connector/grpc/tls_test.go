package grpc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// pki writes a CA and a certificate it signed (for 127.0.0.1, usable by
// servers and clients) into dir; it returns the file names.
func pki(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(leafKey)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", leafDER), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// The source serves mutual TLS; a target with the CA and a client
// certificate gets through, one without a client certificate does not.
func TestMutualTLS(t *testing.T) {
	ca, cert, key := pki(t, t.TempDir())
	var addrs freeAddrs
	addr := addrs.get(t, "x")
	col := connectortest.NewCollector()
	connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"grpc","listen":%q,"tls":{"cert_file":%q,"key_file":%q,"client_ca_file":%q}}`, addr, cert, key, ca), connectortest.Deps(col))
	good := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"grpc","address":%q,"tls":{"ca_file":%q,"cert_file":%q,"key_file":%q}}`, addr, ca, cert, key), connectortest.Deps(nil))
	connectortest.Send(t, good, connectortest.Sample("tls-1"))
	if col.Count() != 1 {
		t.Fatalf("stored %d", col.Count())
	}
	anon := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"grpc","address":%q,"tls":{"ca_file":%q}}`, addr, ca), connectortest.Deps(nil))
	if err := connectortest.TrySendFor(anon, connectortest.Sample("tls-2"), 2*time.Second); err == nil {
		t.Fatal("a client without a certificate got through")
	}
}

// Every problem of a config is reported with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"grpc","listen":"nohost","tls":{"cert_file":"c","client_ca_file":"x"},"max_message_size":10,"subscribe_buffer":-1}`,
		"source.listen", "source.tls", "source.max_message_size", "source.subscribe_buffer")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"grpc","tls":{"key_file":"k"},"timeout":"-1s"}`,
		"target.address", "target.tls", "target.timeout")
}
