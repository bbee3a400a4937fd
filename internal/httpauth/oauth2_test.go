package httpauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/pkg/netguard"
)

// The token request goes through the client the caller gave (the
// target's, with its SSRF guard): a guard that refuses loopback keeps it
// from reaching a token endpoint there, and the error wraps ErrToken
// without the secret.
func TestOAuth2TokenRequestGoesThroughTheGuardedClient(t *testing.T) {
	ts := newTokenServer(t)
	guarded := &http.Client{Transport: netguard.Strict.Transport()}
	a := httpauth.New(oauthConfig(ts.URL), httpauth.WithClient(guarded))
	err := a.Apply(context.Background(), httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if !errors.Is(err, httpauth.ErrToken) || !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("err = %v, want a token error from the guard", err)
	}
	if strings.Contains(err.Error(), "s3cr") {
		t.Errorf("the error shows the secret: %v", err)
	}
	if n := ts.calls.Load(); n != 0 {
		t.Errorf("the token endpoint on loopback got %d requests through a guard that forbids it", n)
	}
	// The same endpoint through a plain client answers.
	if got := authorization(t, httpauth.New(oauthConfig(ts.URL), httpauth.WithClient(&http.Client{}))); got != "Bearer tok-1" {
		t.Errorf("authorization = %q", got)
	}
}

// A refused client in the header is not tried again with the secret in
// the body (no auto-detection), and the error does not show the secret.
func TestOAuth2HeaderAuthDoesNotFallBackToBody(t *testing.T) {
	ts := newTokenServer(t)
	ts.status.Store(http.StatusUnauthorized)
	a := httpauth.New(oauthConfig(ts.URL))
	err := a.Apply(context.Background(), httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if !errors.Is(err, httpauth.ErrToken) || strings.Contains(err.Error(), "s3cr") {
		t.Fatalf("err = %v", err)
	}
	_, form := ts.lastRequest()
	if n := ts.calls.Load(); n != 1 || form["client_secret"] != "" {
		t.Errorf("%d token requests, last form %v: want one, with the secret only in the header", n, form)
	}
}

// An answer without an access token is an error.
func TestOAuth2AnswerWithoutToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"bearer"}`))
	}))
	t.Cleanup(srv.Close)
	err := httpauth.New(oauthConfig(srv.URL)).Apply(context.Background(), httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if !errors.Is(err, httpauth.ErrToken) || !strings.Contains(err.Error(), "access_token") {
		t.Errorf("err = %v", err)
	}
}
