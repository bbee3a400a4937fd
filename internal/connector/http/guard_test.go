package http

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// TestGuardedTargetRefusesLoopback: a target created through the API
// (Deps.Guard set) cannot reach a loopback server, even with block_private
// off, and the refusal is permanent (retrying cannot help).
func TestGuardedTargetRefusesLoopback(t *testing.T) {
	srv, hits := connectortest.CountingHTTPServer(t)
	tg := startGuardedTarget(t, &TargetConfig{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}, netguard.Strict)
	err := tg.Send(context.Background(), testEvent())
	if !errors.Is(err, netguard.ErrForbidden) || !connector.IsPermanent(err) {
		t.Fatalf("send = %v, want a permanent ErrForbidden", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the loopback server", n)
	}
	// The operator's own target (no guard) reaches it.
	if err := startTarget(t, &TargetConfig{URL: srv.URL}).Send(context.Background(), testEvent()); err != nil {
		t.Fatal(err)
	}
}

// TestGuardedTargetTokenURL: the OAuth2 token endpoint is held to the
// guard: the target's own URL is allowed, its token URL is not.
func TestGuardedTargetTokenURL(t *testing.T) {
	ep := newEndpoint(t, "Authorization")
	tokens, hits := connectortest.CountingHTTPServer(t)
	guard := netguard.AllowOnly(strings.TrimPrefix(ep.URL, "http://"))
	auth := &httpauth.Config{OAuth2: &httpauth.OAuth2{TokenURL: tokens.URL + "/token", ClientID: "c", ClientSecret: "s"}}
	tg := startGuardedTarget(t, &TargetConfig{URL: ep.URL, Auth: auth}, guard)
	if err := tg.Send(context.Background(), testEvent()); !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("send = %v, want ErrForbidden from the token request", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the token endpoint", n)
	}
	if got := ep.lastAuth(); got != "" {
		t.Fatalf("the target's endpoint was called (Authorization %q)", got)
	}
}
