package pubsub

import (
	"crypto/rsa"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func oidcConfig() *Config {
	return &Config{OIDC: &OIDC{Audience: audience, Emails: []string{account}}}
}

func TestOIDC(t *testing.T) {
	body := pushBody("m1", []byte("hi"), nil)
	with := func(change func(c map[string]any)) map[string]any {
		c := goodClaims()
		change(c)
		return c
	}
	cases := []struct {
		name   string
		tok    func(t *testing.T) string
		status int
		reason string
	}{
		{"valid", func(t *testing.T) string { return token(t, "k1", goodClaims()) }, 202, ""},
		{"valid, second key, audience list, bare issuer", func(t *testing.T) string {
			return token(t, "k2", with(func(c map[string]any) { c["aud"] = []string{"x", audience}; c["iss"] = "accounts.google.com" }))
		}, 202, ""},
		{"wrong audience", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["aud"] = "https://other.example.com/" }))
		}, 401, webhook.ReasonSignature},
		{"wrong issuer", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }))
		}, 401, webhook.ReasonSignature},
		{"expired", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["exp"] = webhooktest.T0.Add(-2 * time.Minute).Unix() }))
		}, 401, webhook.ReasonStale},
		{"not yet valid", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["iat"] = webhooktest.T0.Add(10 * time.Minute).Unix() }))
		}, 401, webhook.ReasonStale},
		{"no exp", func(t *testing.T) string { return token(t, "k1", with(func(c map[string]any) { delete(c, "exp") })) }, 401, webhook.ReasonSignature},
		{"unknown kid", func(t *testing.T) string { return token(t, "k3", goodClaims()) }, 401, webhook.ReasonSignature},
		{"signed by another key under a known kid", func(t *testing.T) string {
			tok := token(t, "k3", goodClaims())
			return tokenWithKid(t, tok, "k1")
		}, 401, webhook.ReasonSignature},
		{"tampered claims", func(t *testing.T) string {
			good := token(t, "k1", goodClaims())
			evil := token(t, "k1", with(func(c map[string]any) { c["email"] = "evil@example.com" }))
			return splice(good, evil)
		}, 401, webhook.ReasonSignature},
		{"HS256", func(t *testing.T) string { return tokenAlg(t, "k1", "HS256", goodClaims()) }, 401, webhook.ReasonSignature},
		{"another service account", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["email"] = "other@my-project.iam.gserviceaccount.com" }))
		}, 403, webhook.ReasonForbidden},
		{"email not verified", func(t *testing.T) string {
			return token(t, "k1", with(func(c map[string]any) { c["email_verified"] = false }))
		}, 403, webhook.ReasonForbidden},
		{"not a JWT", func(*testing.T) string { return "opaque" }, 401, webhook.ReasonSignature},
		{"no token", func(*testing.T) string { return "" }, 401, webhook.ReasonMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, oidcConfig())
			var hdr []string
			if tok := c.tok(t); tok != "" {
				hdr = bearer(tok)
			}
			w := f.Post(body, hdr...)
			if c.status == 202 {
				webhooktest.WantStatus(t, w, 202)
				webhooktest.One(t, f.Col)
				return
			}
			code := map[int]string{401: "unauthorized", 403: "forbidden"}[c.status]
			webhooktest.WantProblem(t, w, c.status, code)
			if f.Col.Count() != 0 || f.Rejected("ps", c.reason) != 1 {
				t.Fatalf("stored %d; rejected{%s} %v", f.Col.Count(), c.reason, f.Rejected("ps", c.reason))
			}
		})
	}
}

// splice puts b's claims under a's header and signature.
func splice(a, b string) string {
	pa, pb := splitJWT(a), splitJWT(b)
	return pa[0] + "." + pb[1] + "." + pa[2]
}

// tokenWithKid rewrites the kid of tok's header, keeping its signature.
func tokenWithKid(t testing.TB, tok, kid string) string {
	other := tokenAlg(t, kid, "RS256", goodClaims())
	return splitJWT(other)[0] + "." + splitJWT(tok)[1] + "." + splitJWT(tok)[2]
}

func splitJWT(s string) [3]string {
	var out [3]string
	i := 0
	start := 0
	for j := 0; j < len(s); j++ {
		if s[j] == '.' {
			out[i] = s[start:j]
			i++
			start = j + 1
		}
	}
	out[i] = s[start:]
	return out
}

func TestKeysAreCachedAndRotated(t *testing.T) {
	f := newFixture(t, oidcConfig())
	body := pushBody("m1", []byte("hi"), nil)
	for range 3 {
		if code := f.post(body, bearer(token(t, "k1", goodClaims()))...); code != 202 {
			t.Fatalf("status %d", code)
		}
	}
	if n := f.google.requests.Load(); n != 1 {
		t.Fatalf("%d key fetches, want 1 (cached)", n)
	}
	// An unknown kid fetches again, at most every 30s.
	f.Clock.Advance(time.Minute)
	claims := goodClaims()
	claims["exp"] = f.Clock.Now().Add(time.Hour).Unix()
	if code := f.post(body, bearer(token(t, "k3", claims))...); code != 401 {
		t.Fatalf("unknown kid: %d", code)
	}
	if code := f.post(body, bearer(token(t, "k3", claims))...); code != 401 {
		t.Fatalf("unknown kid: %d", code)
	}
	if n := f.google.requests.Load(); n != 2 {
		t.Fatalf("%d key fetches, want 2 (one refetch for the unknown kid)", n)
	}
	// Google rotates: k3 is published; after the gap it is fetched.
	f.google.publish(jwks(t, "k2", "k3"), 0)
	f.Clock.Advance(31 * time.Second)
	if code := f.post(body, bearer(token(t, "k3", claims))...); code != 202 {
		t.Fatalf("rotated key: %d", code)
	}
	// Past max-age the set is fetched again; while the endpoint fails,
	// the keys in hand still serve.
	f.google.publish(nil, http.StatusInternalServerError)
	f.Clock.Advance(2 * time.Hour)
	claims["exp"] = f.Clock.Now().Add(time.Hour).Unix()
	if code := f.post(body, bearer(token(t, "k2", claims))...); code != 202 {
		t.Fatalf("stale keys while the endpoint fails: %d", code)
	}
	for _, u := range f.google.urls {
		if u != GoogleJWKSURL {
			t.Fatalf("fetched %s", u)
		}
	}
}

func TestKeysUnavailable(t *testing.T) {
	f := newFixture(t, oidcConfig())
	f.google.publish(nil, http.StatusServiceUnavailable)
	w := f.Post(pushBody("m1", nil, nil), bearer(token(t, "k1", goodClaims()))...)
	webhooktest.WantProblem(t, w, 503, "unavailable")
	if f.Rejected("ps", webhook.ReasonUpstream) != 1 {
		t.Fatal("not counted")
	}
}

func TestJWKSFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certs.json")
	if err := os.WriteFile(path, jwks(t, "k2"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{OIDC: &OIDC{Audience: audience, JWKSFile: path}}
	f := newFixture(t, cfg)
	if code := f.post(pushBody("m1", nil, nil), bearer(token(t, "k2", goodClaims()))...); code != 202 {
		t.Fatalf("status %d", code)
	}
	if code := f.post(pushBody("m2", nil, nil), bearer(token(t, "k1", goodClaims()))...); code != 401 {
		t.Fatalf("key not in the file: %d", code)
	}
	if f.google.requests.Load() != 0 {
		t.Fatal("fetched keys although they come from a file")
	}
	if _, err := newKeySet(&OIDC{JWKSFile: filepath.Join(t.TempDir(), "none")}, nil); err == nil {
		t.Fatal("a missing file accepted")
	}
}

func TestParseJWKSRefusesWeakKeys(t *testing.T) {
	for _, set := range []string{
		`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","kid":"a"}]}`,
		`{"keys":[]}`,
		`[]`,
	} {
		if _, err := parseJWKS([]byte(set)); err == nil {
			t.Errorf("%s accepted", set)
		}
	}
}

func FuzzToken(f *testing.F) {
	f.Add(token(f, "k1", goodClaims()))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJleHAiOjF9.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		ks, _ := newKeySet(&OIDC{}, nil)
		ks.keys = map[string]*rsa.PublicKey{"k1": &keys(t)["k1"].PublicKey}
		v := newVerifier(&OIDC{Audience: audience}, ks)
		err := v.Verify(t.Context(), tok, webhooktest.T0)
		if err == nil && tok != token(t, "k1", goodClaims()) {
			// Only a token signed by k1 can pass; PKCS#1 v1.5 signatures
			// are deterministic, so it is this one.
			t.Fatalf("accepted %q", tok)
		}
	})
}
