package pubsub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	audience = "https://bridge.example.com/hooks/gcp-pubsub"
	account  = "push@my-project.iam.gserviceaccount.com"
)

// Test keys, made once: "k1" and "k2" are published, "k3" is not.
var (
	keysOnce sync.Once
	testKeys map[string]*rsa.PrivateKey
)

func keys(t testing.TB) map[string]*rsa.PrivateKey {
	keysOnce.Do(func() {
		testKeys = map[string]*rsa.PrivateKey{}
		for _, kid := range []string{"k1", "k2", "k3"} {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[kid] = k
		}
	})
	return testKeys
}

// jwks is the key set publishing kids.
func jwks(t testing.TB, kids ...string) []byte {
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for _, kid := range kids {
		pub := keys(t)[kid].PublicKey
		set.Keys = append(set.Keys, map[string]string{
			"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	b, _ := json.Marshal(set)
	return b
}

// token signs claims with key kid as RS256, the way Google signs them.
func token(t testing.TB, kid string, claims map[string]any) string {
	return tokenAlg(t, kid, "RS256", claims)
}

func tokenAlg(t testing.TB, kid, alg string, claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	body, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, keys(t)[kid], crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// goodClaims are what Pub/Sub's token holds, valid at webhooktest.T0.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": "https://accounts.google.com", "aud": audience,
		"azp": "1234567890", "sub": "1234567890",
		"email": account, "email_verified": true,
		"iat": webhooktest.T0.Add(-time.Minute).Unix(), "exp": webhooktest.T0.Add(59 * time.Minute).Unix(),
	}
}

// fakeGoogle is an HTTP client that answers the JWKS URL with the current
// key set, counts what it is asked, and never touches the network.
type fakeGoogle struct {
	mu       sync.Mutex
	set      []byte
	status   int
	requests atomic.Int32
	urls     []string
}

func (g *fakeGoogle) RoundTrip(r *http.Request) (*http.Response, error) {
	g.requests.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.urls = append(g.urls, r.URL.String())
	status := g.status
	if status == 0 {
		status = http.StatusOK
	}
	if r.URL.String() != GoogleJWKSURL {
		status = http.StatusNotFound
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=3600, must-revalidate"}},
		Body:       io.NopCloser(strings.NewReader(string(g.set))),
		Request:    r,
	}, nil
}

func (g *fakeGoogle) publish(set []byte, status int) {
	g.mu.Lock()
	g.set, g.status = set, status
	g.mu.Unlock()
}

type fixture struct {
	*webhooktest.Fixture
	google *fakeGoogle
}

func newFixture(t testing.TB, cfg *Config) *fixture {
	t.Helper()
	cfg.Defaults()
	p := spec.NewProblems("")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{Fixture: webhooktest.NewFixture(), google: &fakeGoogle{}}
	f.google.publish(jwks(t, "k1", "k2"), 0)
	src, err := newSource("ps", cfg, f.Deps, options{Options: f.Options(), client: &http.Client{Transport: f.google}})
	if err != nil {
		t.Fatal(err)
	}
	f.Src = src
	return f
}

func (f *fixture) post(body []byte, headers ...string) int {
	return f.Post(body, headers...).Code
}

// pushBody is a push request for data with attributes.
func pushBody(id string, data []byte, attrs map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{
		"message": map[string]any{
			"data": base64.StdEncoding.EncodeToString(data), "attributes": attrs,
			"messageId": id, "publishTime": "2021-02-26T19:13:55.749Z",
		},
		"subscription": "projects/p/subscriptions/s",
	})
	return b
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
