package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// endpoint is an API that records what it gets and answers with status().
type endpoint struct {
	*httptest.Server
	hits   atomic.Int32
	status atomic.Int32 // 0: 200
	mu     sync.Mutex
	auth   []string // Authorization (or X-API-Key) of each request
}

func newEndpoint(t *testing.T, header string) *endpoint {
	ep := &endpoint{}
	ep.Server = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		ep.hits.Add(1)
		ep.mu.Lock()
		ep.auth = append(ep.auth, r.Header.Get(header))
		ep.mu.Unlock()
		if s := ep.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		w.WriteHeader(nethttp.StatusOK)
	}))
	t.Cleanup(ep.Close)
	return ep
}

func (ep *endpoint) lastAuth() string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.auth) == 0 {
		return ""
	}
	return ep.auth[len(ep.auth)-1]
}

func testEvent() *ce.Event {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/test")
	e.SetType("com.example.test")
	_ = e.SetData("application/json", map[string]int{"n": 1})
	return &e
}

func startTarget(t *testing.T, cfg *TargetConfig) *Target {
	t.Helper()
	return startGuardedTarget(t, cfg, nil)
}

// startGuardedTarget starts a target the way the bridge starts one
// created through the API: with guard.
func startGuardedTarget(t *testing.T, cfg *TargetConfig, guard *netguard.Guard) *Target {
	t.Helper()
	cfg.Defaults()
	p := spec.NewProblems("")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	tg, err := newTarget("api", cfg, connector.Deps{Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Stop(context.Background()) })
	return tg.(*Target)
}

func TestTargetStaticAuth(t *testing.T) {
	cases := []struct {
		auth         httpauth.Config
		header, want string
	}{
		{httpauth.Config{Basic: &httpauth.Basic{Username: "u", Password: "p"}}, "Authorization", "Basic dTpw"},
		{httpauth.Config{Bearer: "t0k"}, "Authorization", "Bearer t0k"},
		{httpauth.Config{APIKey: &httpauth.APIKey{Header: "X-Key", Value: "k3y"}}, "X-Key", "k3y"},
	}
	for _, c := range cases {
		ep := newEndpoint(t, c.header)
		tg := startTarget(t, &TargetConfig{URL: ep.URL, Auth: &c.auth})
		if err := tg.Send(context.Background(), testEvent()); err != nil {
			t.Fatal(err)
		}
		if got := ep.lastAuth(); got != c.want {
			t.Errorf("%s = %q, want %q", c.header, got, c.want)
		}
		// A 401 with static credentials is permanent: retrying sends the
		// same ones.
		ep.status.Store(nethttp.StatusUnauthorized)
		if err := tg.Send(context.Background(), testEvent()); !connector.IsPermanent(err) {
			t.Errorf("401 with static credentials: %v, want permanent", err)
		}
	}
}

func TestTargetOAuth2(t *testing.T) {
	var tokens atomic.Int32
	tokenSrv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n := tokens.Add(1)
		if id, secret, _ := r.BasicAuth(); id != "cid" || secret != "csecret" {
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(tokenSrv.Close)
	ep := newEndpoint(t, "Authorization")
	tg := startTarget(t, &TargetConfig{URL: ep.URL, Auth: &httpauth.Config{OAuth2: &httpauth.OAuth2{
		TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: "csecret"}}})
	for range 5 {
		if err := tg.Send(context.Background(), testEvent()); err != nil {
			t.Fatal(err)
		}
	}
	if got, n := ep.lastAuth(), tokens.Load(); got != "Bearer tok-1" || n != 1 {
		t.Fatalf("auth %q after %d token requests, want one token for five sends", got, n)
	}
	// The API refuses the token (revoked): the delivery is retried, with
	// a new token.
	ep.status.Store(nethttp.StatusUnauthorized)
	err := tg.Send(context.Background(), testEvent())
	if err == nil || connector.IsPermanent(err) || connector.StatusCode(err) != 401 {
		t.Fatalf("401 with oauth2: %v, want a retryable 401", err)
	}
	ep.status.Store(0)
	if err := tg.Send(context.Background(), testEvent()); err != nil {
		t.Fatal(err)
	}
	if got := ep.lastAuth(); got != "Bearer tok-2" {
		t.Errorf("after a 401: %q, want a new token", got)
	}
}

func TestTargetOAuth2TokenEndpointDown(t *testing.T) {
	ep := newEndpoint(t, "Authorization")
	tokenSrv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(nethttp.StatusServiceUnavailable)
	}))
	t.Cleanup(tokenSrv.Close)
	tg := startTarget(t, &TargetConfig{URL: ep.URL, Auth: &httpauth.Config{OAuth2: &httpauth.OAuth2{
		TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: "csecret"}}})
	err := tg.Send(context.Background(), testEvent())
	if err == nil || connector.IsPermanent(err) || !errors.Is(err, httpauth.ErrToken) {
		t.Errorf("err = %v, want a retryable token error", err)
	}
	if ep.hits.Load() != 0 {
		t.Error("sent without a token")
	}
}

// rate_limit and circuit_breaker are enforced by delivery for every target
// kind (internal/delivery guard tests); here, only that the http target's
// settings decode and validate as before.

func TestTargetOutboundValidate(t *testing.T) {
	cases := []struct {
		edit func(*TargetConfig)
		want string
	}{
		{func(c *TargetConfig) { c.RateLimit = &RateLimit{PerSecond: 0} }, "rate_limit.per_second"},
		{func(c *TargetConfig) { c.RateLimit = &RateLimit{PerSecond: 5, Burst: -1} }, "rate_limit.burst"},
		{func(c *TargetConfig) { c.CircuitBreaker = &CircuitBreaker{Failures: -1} }, "circuit_breaker.failures"},
		{func(c *TargetConfig) { c.Auth = &httpauth.Config{} }, "auth: set exactly one"},
		{func(c *TargetConfig) {
			c.Auth = &httpauth.Config{Bearer: "x"}
			c.Headers = map[string]spec.Secret{"authorization": "y"}
		}, "headers.authorization: auth sets this header"},
		{func(c *TargetConfig) { c.RateLimit = &RateLimit{PerSecond: 2.5} }, ""},
		{func(c *TargetConfig) { c.CircuitBreaker = &CircuitBreaker{} }, ""},
	}
	for i, c := range cases {
		cfg := &TargetConfig{URL: "http://example.com/"}
		c.edit(cfg)
		cfg.Defaults()
		p := spec.NewProblems("")
		cfg.Base().ValidateCommon(p)
		cfg.Validate(p)
		got := ""
		if err := p.Err(); err != nil {
			got = err.Error()
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("case %d: problems %q, want %q", i, got, c.want)
		}
	}
	cfg := &TargetConfig{URL: "http://example.com/", Common: connector.Common{RateLimit: &RateLimit{PerSecond: 2.5}, CircuitBreaker: &CircuitBreaker{}}}
	cfg.Defaults()
	if cfg.RateLimit.Burst != 3 || cfg.CircuitBreaker.Failures != 5 || cfg.CircuitBreaker.OpenFor.D() != 30*time.Second {
		t.Errorf("defaults: %+v %+v", cfg.RateLimit, cfg.CircuitBreaker)
	}
}

// A redirect is never followed (the webhook spec: a sender MUST NOT) and
// is permanent; a target slower than timeout is a retryable failure.
func TestTargetRedirectAndTimeout(t *testing.T) {
	var followed atomic.Int32
	other := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		followed.Add(1)
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	defer other.Close()
	redirect := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, other.URL, nethttp.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	tg := startTarget(t, &TargetConfig{URL: redirect.URL})
	err := tg.Send(context.Background(), testEvent())
	if !connector.IsPermanent(err) || connector.StatusCode(err) != nethttp.StatusTemporaryRedirect {
		t.Fatalf("redirect: %v (status %d), want permanent 307", err, connector.StatusCode(err))
	}
	if n := followed.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	tg = startTarget(t, &TargetConfig{URL: slow.URL, Timeout: spec.Duration(100 * time.Millisecond)})
	start := time.Now()
	err = tg.Send(context.Background(), testEvent())
	if err == nil || connector.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow target: %v, want a retryable deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the timeout of 100ms took %v", d)
	}
}

// BenchmarkTargetSend is one binary-mode delivery to a local endpoint that
// answers 204 (compare allocs/op with the endpoint's own cost, which is
// part of ns/op here).
func BenchmarkTargetSend(b *testing.B) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	defer srv.Close()
	cfg := &TargetConfig{URL: srv.URL}
	cfg.Defaults()
	tg, err := newTarget("bench", cfg, connector.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tg.Stop(context.Background()) }()
	e := testEvent()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := tg.Send(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
