package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/api"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/state"
)

// newOran prepares the O-RAN service (it runs the failure rule even when
// its API is not served, for imported subscriptions).
func (b *Bridge) newOran(ing connector.Ingester) *oran.Service {
	failAfter := oran.DefaultFailAfter
	if b.cfg.Oran.FailAfter != nil {
		failAfter = *b.cfg.Oran.FailAfter
	}
	return oran.New(oran.Config{
		Store: b.store, Ingest: ing, State: b.oranState(),
		BaseURL: b.cfg.Oran.APIHost, AllowPrivate: b.cfg.API.PrivateAddressesAllowed(),
		FailAfter: failAfter, Metrics: oran.NewMetrics(b.metrics.Registry),
		Wait: b.waitApplied, Log: b.logs.Logger("oran"),
	})
}

// waitApplied waits (up to 3s) until the controller has applied store
// revision rev.
func (b *Bridge) waitApplied(ctx context.Context, rev uint64) {
	if b.controller == nil {
		return
	}
	b.controller.Kick()
	deadline := time.Now().Add(3 * time.Second)
	for b.controller.AppliedRevision() < rev && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// startOran serves the O-RAN API on oran.listen, with the API's tokens and
// oran.tls (default api.tls).
func (b *Bridge) startOran(auth *api.Auth) error {
	if b.cfg.Oran.Listen == "" {
		return nil
	}
	tc := b.cfg.Oran.TLS
	if tc == nil {
		tc = b.cfg.API.TLS
	}
	tlsCfg, err := serverTLS(tc)
	if err != nil {
		return err
	}
	h := b.oran.Handler(func(write bool, h http.Handler) http.Handler {
		if write {
			return auth.Require(api.ScopeWrite, h)
		}
		return auth.Require(api.ScopeRead, h)
	})
	if b.oranHTTP, err = startHTTP(b.cfg.Oran.Listen, h, tlsCfg, b.cfg.API.ReadTimeout.D()); err != nil {
		return err
	}
	if host := b.cfg.Oran.APIHost; strings.HasSuffix(host, "://localhost:0") {
		// oran.listen had port 0 and api_host was derived from it.
		_, port, _ := net.SplitHostPort(b.OranAddr())
		b.oran.SetBaseURL(strings.TrimSuffix(host, "0") + port)
	}
	b.log.Info("O-RAN notification API listening", "addr", b.OranAddr(), "tls", tlsCfg != nil)
	return nil
}

// Oran returns the O-RAN service (nil before Start).
func (b *Bridge) Oran() *oran.Service { return b.oran }

// OranAddr returns the address the O-RAN API listens on ("" when off).
func (b *Bridge) OranAddr() string {
	if b.oranHTTP == nil {
		return ""
	}
	return b.oranHTTP.ln.Addr().String()
}

// oranState answers CurrentState from the bridge's current state: the
// newest event whose CloudEvents source is the address (none when
// state.enabled is false).
func (b *Bridge) oranState() oran.StateFunc {
	return func(ctx context.Context, address string) (*ce.Event, error) {
		st := b.state
		if st == nil {
			return nil, oran.ErrNoState
		}
		e, err := st.Latest(ctx, address)
		switch {
		case errors.Is(err, state.ErrNotFound):
			return nil, oran.ErrNoState
		case err != nil:
			return nil, err
		case e.Event == nil || e.Truncated:
			return nil, oran.ErrNoState
		}
		return e.Event, nil
	}
}
