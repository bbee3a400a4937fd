package httpauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// TokenServer is a fake OAuth2 token endpoint that counts its requests
// and hands out tokens tok-1, tok-2, … valid for ExpiresIn seconds.
type tokenServer struct {
	*httptest.Server
	calls     atomic.Int32
	expiresIn string // JSON value
	status    atomic.Int32
	mu        sync.Mutex
	last      *http.Request
	form      map[string]string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{expiresIn: "3600"}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.calls.Add(1)
		_ = r.ParseForm()
		ts.mu.Lock()
		ts.last = r
		ts.form = map[string]string{}
		for k := range r.PostForm {
			ts.form[k] = r.PostForm.Get(k)
		}
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if s := ts.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"bad secret"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%s}`, n, ts.expiresIn)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) lastRequest() (*http.Request, map[string]string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.last, ts.form
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func authorization(t *testing.T, a httpauth.Authenticator) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://api.example/", nil)
	if err := a.Apply(context.Background(), req); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return req.Header.Get("Authorization")
}

func oauthConfig(url string) *httpauth.Config {
	c := &httpauth.Config{OAuth2: &httpauth.OAuth2{TokenURL: url, ClientID: "my client", ClientSecret: "s3cr&t", Scopes: []string{"read", "write"},
		Params: map[string]string{"audience": "https://api.example"}}}
	c.Defaults()
	return c
}

func TestOAuth2TokenIsCachedAndRefreshedBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := httpauth.New(oauthConfig(ts.URL), httpauth.WithClock(clk.Now))

	if got := authorization(t, a); got != "Bearer tok-1" {
		t.Fatalf("authorization = %q", got)
	}
	req, form := ts.lastRequest()
	user, pass, ok := req.BasicAuth()
	if !ok || user != "my+client" || pass != "s3cr%26t" {
		t.Errorf("client auth = %q %q %v, want form-encoded client id and secret (RFC 6749 2.3.1)", user, pass, ok)
	}
	if form["grant_type"] != "client_credentials" || form["scope"] != "read write" || form["audience"] != "https://api.example" || form["client_secret"] != "" {
		t.Errorf("form = %v", form)
	}
	for range 10 {
		authorization(t, a)
	}
	if n := ts.calls.Load(); n != 1 {
		t.Fatalf("%d token requests for 11 uses of one token", n)
	}
	// 3600s tokens are refreshed a minute early.
	clk.Advance(3539 * time.Second)
	if got := authorization(t, a); got != "Bearer tok-1" || ts.calls.Load() != 1 {
		t.Fatalf("refreshed too early: %q after %d requests", got, ts.calls.Load())
	}
	clk.Advance(time.Second)
	if got := authorization(t, a); got != "Bearer tok-2" || ts.calls.Load() != 2 {
		t.Fatalf("not refreshed before expiry: %q after %d requests", got, ts.calls.Load())
	}
	// A 401 drops the token.
	if !a.Reject() {
		t.Error("Reject says a new token cannot help")
	}
	if got := authorization(t, a); got != "Bearer tok-3" {
		t.Errorf("after Reject: %q", got)
	}
}

func TestOAuth2ShortLivedTokens(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = `"10"` // a string, as some servers send it
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := httpauth.New(oauthConfig(ts.URL), httpauth.WithClock(clk.Now))
	authorization(t, a)
	clk.Advance(7 * time.Second) // a fifth early: at 8s
	authorization(t, a)
	if n := ts.calls.Load(); n != 1 {
		t.Fatalf("%d requests", n)
	}
	clk.Advance(time.Second)
	authorization(t, a)
	if n := ts.calls.Load(); n != 2 {
		t.Fatalf("%d requests, want a refresh at 8s of 10s", n)
	}
}

func TestOAuth2ConcurrentUsesFetchOnce(t *testing.T) {
	ts := newTokenServer(t)
	a := httpauth.New(oauthConfig(ts.URL))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "http://api.example/", nil)
			if err := a.Apply(context.Background(), req); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := ts.calls.Load(); n != 1 {
		t.Errorf("%d token requests for 20 concurrent uses", n)
	}
}

func TestOAuth2ClientAuthInBody(t *testing.T) {
	ts := newTokenServer(t)
	c := oauthConfig(ts.URL)
	c.OAuth2.ClientAuth = "body"
	authorization(t, httpauth.New(c))
	req, form := ts.lastRequest()
	if _, _, ok := req.BasicAuth(); ok || form["client_id"] != "my client" || form["client_secret"] != "s3cr&t" {
		t.Errorf("basic %v, form %v", ok, form)
	}
}

func TestOAuth2Errors(t *testing.T) {
	ts := newTokenServer(t)
	ts.status.Store(http.StatusUnauthorized)
	a := httpauth.New(oauthConfig(ts.URL))
	err := a.Apply(context.Background(), httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if !errors.Is(err, httpauth.ErrToken) || !strings.Contains(err.Error(), "HTTP 401: invalid_client: bad secret") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr") {
		t.Errorf("the error shows the secret: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Apply(ctx, httptest.NewRequest(http.MethodGet, "http://api.example/", nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestStaticCredentials(t *testing.T) {
	cases := []struct {
		cfg          *httpauth.Config
		header, want string
	}{
		{&httpauth.Config{Basic: &httpauth.Basic{Username: "u", Password: "p"}}, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))},
		{&httpauth.Config{Bearer: "t0k"}, "Authorization", "Bearer t0k"},
		{&httpauth.Config{APIKey: &httpauth.APIKey{Value: "k3y"}}, "X-API-Key", "k3y"},
		{&httpauth.Config{APIKey: &httpauth.APIKey{Header: "DD-API-KEY", Value: "k3y"}}, "DD-API-KEY", "k3y"},
		{nil, "Authorization", ""},
	}
	for _, c := range cases {
		if c.cfg != nil {
			c.cfg.Defaults()
		}
		a := httpauth.New(c.cfg)
		req := httptest.NewRequest(http.MethodGet, "http://api.example/", nil)
		if err := a.Apply(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get(c.header); got != c.want {
			t.Errorf("%s = %q, want %q", c.header, got, c.want)
		}
		if a.Reject() {
			t.Errorf("static credentials say a retry may help")
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		cfg  httpauth.Config
		want string
	}{
		{httpauth.Config{Bearer: "x"}, ""},
		{httpauth.Config{}, "set exactly one"},
		{httpauth.Config{Bearer: "x", Basic: &httpauth.Basic{Username: "u"}}, "set exactly one"},
		{httpauth.Config{Basic: &httpauth.Basic{}}, "auth.basic.username: required"},
		{httpauth.Config{APIKey: &httpauth.APIKey{}}, "auth.api_key.value: required"},
		{httpauth.Config{APIKey: &httpauth.APIKey{Header: "Bad Header", Value: "v"}}, "auth.api_key.header"},
		{httpauth.Config{OAuth2: &httpauth.OAuth2{}}, "auth.oauth2.token_url: required"},
		{httpauth.Config{OAuth2: &httpauth.OAuth2{TokenURL: "ftp://x/"}}, "auth.oauth2.client_id: required"},
		{httpauth.Config{OAuth2: &httpauth.OAuth2{TokenURL: "https://x/t", ClientID: "i", ClientSecret: "s", ClientAuth: "jwt"}}, "auth.oauth2.client_auth"},
	}
	for _, c := range cases {
		c.cfg.Defaults()
		p := spec.NewProblems("auth")
		c.cfg.Validate(p)
		got := ""
		if err := p.Err(); err != nil {
			got = err.Error()
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%+v: problems %q, want %q", c.cfg, got, c.want)
		}
	}
}
