package sns

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const certURL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"

// pki is a test CA and an "SNS signing certificate" it issued; rogue is a
// certificate with the same subject that nobody trusts.
type pki struct {
	roots    *x509.CertPool
	key      *rsa.PrivateKey
	certPEM  []byte
	rogueKey *rsa.PrivateKey
	roguePEM []byte
	oldPEM   []byte // expired before webhooktest.T0
}

var (
	pkiOnce sync.Once
	thePKI  *pki
)

func testPKI(t testing.TB) *pki {
	pkiOnce.Do(func() {
		p := &pki{roots: x509.NewCertPool()}
		caKey, caCert := selfSigned("Test Root CA")
		p.roots.AddCert(caCert)
		p.key = mustKey()
		p.certPEM = issue(caKey, caCert, &p.key.PublicKey, webhooktest.T0.Add(-time.Hour), webhooktest.T0.Add(365*24*time.Hour))
		p.oldPEM = issue(caKey, caCert, &p.key.PublicKey, webhooktest.T0.Add(-48*time.Hour), webhooktest.T0.Add(-24*time.Hour))
		// Self-signed, so that it chains to nothing we trust.
		rogueKey, rogue := selfSigned("sns.amazonaws.com")
		p.rogueKey = rogueKey
		p.roguePEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rogue.Raw})
		thePKI = p
	})
	return thePKI
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func selfSigned(cn string) (*rsa.PrivateKey, *x509.Certificate) {
	key := mustKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: webhooktest.T0.Add(-24 * 365 * time.Hour), NotAfter: webhooktest.T0.Add(24 * 365 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

func issue(caKey *rsa.PrivateKey, ca *x509.Certificate, pub *rsa.PublicKey, from, to time.Time) []byte {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		DNSNames: []string{"sns.amazonaws.com"}, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// fakeAWS is the HTTP client's transport: it serves certificates and
// subscription confirmations by URL, records every request, and never
// reaches the network.
type fakeAWS struct {
	mu       sync.Mutex
	pages    map[string][]byte
	status   map[string]int
	requests []string
}

func (a *fakeAWS) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := r.URL.String()
	a.requests = append(a.requests, r.Method+" "+u)
	body, ok := a.pages[u]
	status := http.StatusOK
	if !ok {
		status = http.StatusNotFound
	}
	if s, set := a.status[u]; set {
		status = s
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

func (a *fakeAWS) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.requests...)
}

type fixture struct {
	*webhooktest.Fixture
	aws *fakeAWS
	pki *pki
}

func newFixture(t testing.TB, cfg *Config) *fixture {
	t.Helper()
	cfg.Defaults()
	p := testPKI(t)
	f := &fixture{Fixture: webhooktest.NewFixture(), pki: p,
		aws: &fakeAWS{pages: map[string][]byte{certURL: p.certPEM}, status: map[string]int{}}}
	f.Src = newSource("sns", cfg, f.Deps, options{
		Options: f.Options(),
		client:  &http.Client{Transport: f.aws},
		roots:   p.roots,
	})
	return f
}

// sign signs the message m (a JSON object) as SNS does, with version v,
// computing the string to sign independently of the code under test.
func sign(t testing.TB, key *rsa.PrivateKey, m map[string]any, v string) []byte {
	t.Helper()
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != TypeNotification {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, k := range keys {
		if val, ok := m[k]; ok && val != nil {
			b.WriteString(k + "\n" + val.(string) + "\n")
		}
	}
	var sig []byte
	var err error
	if v == "1" {
		sum := sha1.Sum([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["SignatureVersion"] = v
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	if _, ok := m["SigningCertURL"]; !ok {
		m["SigningCertURL"] = certURL
	}
	out, _ := json.Marshal(m)
	return out
}

// notification returns a Notification with message text.
func notification(id, text string) map[string]any {
	return map[string]any{
		"Type": "Notification", "MessageId": id, "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
		"Subject": "My First Message", "Message": text, "Timestamp": "2012-05-02T00:54:06.655Z",
		"UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96",
	}
}

const subArn = "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"

// post sends body as SNS does.
func (f *fixture) post(body []byte, typ string, extra ...string) int {
	hdr := append([]string{"Content-Type", "text/plain; charset=UTF-8", HeaderMessageType, typ, HeaderSubscriptionArn, subArn}, extra...)
	return f.Post(body, hdr...).Code
}

// readDocRequest splits a documented HTTP request into headers and body.
func readDocRequest(t testing.TB, path string) (http.Header, []byte) {
	t.Helper()
	raw := webhooktest.ReadFile(t, path)
	head, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line", path)
	}
	hd := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Scan() // the request line
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		hd.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return hd, bytes.TrimSpace(body)
}
