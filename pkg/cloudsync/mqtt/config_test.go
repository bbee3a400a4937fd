package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
brokerHost: broker.example.com:8883
username: maestro
password: secret
keepAlive: 30
dialTimeout: 5s
pubQoS: 0
subQoS: 2
topics:
  sourceEvents: sources/maestro/consumers/+/sourceevents
  agentEvents: $share/statussubscribers/sources/maestro/consumers/+/agentevents
  sourceBroadcast: sources/+/sourcebroadcast
  agentBroadcast: clusters/+/agentbroadcast
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.BrokerHost != "broker.example.com:8883" || o.Username != "maestro" || o.Password != "secret" || o.KeepAlive != 30 ||
		o.DialTimeout != 5*time.Second || o.PubQoS != 0 || o.SubQoS != 2 || o.Topics != ocmTopics || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}

	// defaults
	c, err = ParseConfig([]byte("broker: 127.0.0.1:1883\ntopics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\ndialTimeout: 1000000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	o, err = c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.BrokerHost != "127.0.0.1:1883" || o.KeepAlive != 60 || o.PubQoS != 1 || o.SubQoS != 1 || o.DialTimeout != time.Second {
		t.Errorf("defaults %+v", o)
	}
	c.DialTimeout = nil
	if o, _ := c.Options(); o.DialTimeout != 60*time.Second {
		t.Errorf("default dial timeout %v", o.DialTimeout)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bogus := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(bogus, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	topics := "topics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\n"
	cases := []struct{ yaml, want string }{
		{topics, "brokerHost"},
		{"brokerHost: h:1\n", "topics"},
		{"brokerHost: h:1\ntopics: {sourceEvents: x, agentEvents: sources/a/clusters/+/agentevents}\n", "topics.sourceEvents"},
		{"brokerHost: h:1\npubQoS: 3\n" + topics, "pubQoS"},
		{"brokerHost: h:1\nclientCertFile: a.crt\n" + topics, "clientKeyFile"},
		{"brokerHost: h:1\ncaFile: " + bogus + "\n" + topics, "caFile"},
		{"brokerHost: h:1\ncaFile: " + filepath.Join(dir, "missing") + "\n" + topics, "caFile"},
	}
	for _, c := range cases {
		cfg, err := ParseConfig([]byte(c.yaml))
		if err != nil {
			t.Errorf("%q: parse: %v", c.yaml, err)
			continue
		}
		if _, err := cfg.Options(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: Options() = %v, want an error naming %s", c.yaml, err, c.want)
		}
	}
	if _, err := ParseConfig([]byte("dialTimeout: soon\n")); err == nil {
		t.Error("a bad duration parsed")
	}
	if _, err := LoadConfig(filepath.Join(dir, "none.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}

// TLS from inline base64 PEM (OCM's caData, clientCertData, clientKeyData).
func TestConfigTLSData(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	enc := base64.StdEncoding.EncodeToString
	c, err := ParseConfig([]byte("brokerHost: broker.example.com:8883\ncaData: " + enc(certPEM) + "\nclientCertData: " + enc(certPEM) +
		"\nclientKeyData: " + enc(keyPEM) + "\ntopics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\n"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSConfig == nil || o.TLSConfig.RootCAs == nil || len(o.TLSConfig.Certificates) != 1 || o.TLSConfig.ServerName != "broker.example.com" {
		t.Errorf("TLS config %+v", o.TLSConfig)
	}
	// the same from files
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cf, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ = ParseConfig([]byte("brokerHost: h:8883\ncaFile: " + cf + "\nclientCertFile: " + cf + "\nclientKeyFile: " + kf +
		"\ntopics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\n"))
	if o, err := c.Options(); err != nil || o.TLSConfig == nil || len(o.TLSConfig.Certificates) != 1 {
		t.Errorf("TLS from files: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
