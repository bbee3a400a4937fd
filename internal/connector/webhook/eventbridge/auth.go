package eventbridge

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// checker authenticates one request.
type checker func(ctx context.Context, r *http.Request, now time.Time) error

func newChecker(a Auth, client *http.Client) checker {
	switch {
	case a.Basic != nil:
		b := a.Basic
		return func(_ context.Context, r *http.Request, _ time.Time) error {
			return webhook.CheckBasic(r, b.Username, b.Password)
		}
	case a.APIKey != nil:
		k := a.APIKey
		return func(_ context.Context, r *http.Request, _ time.Time) error {
			return webhook.CheckToken(r.Header.Get(k.Header), k.Value)
		}
	case a.OAuth != nil && len(a.OAuth.Tokens) > 0:
		toks := a.OAuth.Tokens
		return func(_ context.Context, r *http.Request, _ time.Time) error {
			return webhook.CheckBearer(r, toks)
		}
	case a.OAuth != nil && a.OAuth.Introspection != nil:
		in := &introspector{cfg: a.OAuth.Introspection, client: client, cache: map[[32]byte]time.Time{}}
		return in.check
	}
	return func(context.Context, *http.Request, time.Time) error { return webhook.ErrMissing }
}

// introspector asks an RFC 7662 endpoint whether a bearer token is active,
// and remembers active tokens (by their hash) for a while.
type introspector struct {
	cfg    *Introspection
	client *http.Client

	mu    sync.Mutex
	cache map[[32]byte]time.Time // token hash → trusted until
}

// maxCached bounds the cache; beyond it, the cache is emptied.
const maxCached = 10_000

func (in *introspector) check(ctx context.Context, r *http.Request, now time.Time) error {
	tok := webhook.BearerToken(r)
	if tok == "" {
		return webhook.ErrMissing
	}
	key := sha256.Sum256([]byte(tok))
	in.mu.Lock()
	until, ok := in.cache[key]
	in.mu.Unlock()
	if ok && now.Before(until) {
		return nil
	}
	exp, err := in.ask(ctx, tok, now)
	if err != nil {
		return err
	}
	until = now.Add(in.cfg.Cache.D())
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	in.mu.Lock()
	if len(in.cache) >= maxCached {
		clear(in.cache)
	}
	in.cache[key] = until
	in.mu.Unlock()
	return nil
}

// ask returns the token's expiry (zero when the server gives none), or
// ErrSignature when it is not active, ErrStale when it has expired, and
// ErrUpstream when the server cannot be asked.
func (in *introspector) ask(ctx context.Context, tok string, now time.Time) (time.Time, error) {
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: introspection: %v", webhook.ErrUpstream, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.cfg.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret.Value()))
	}
	res, err := in.client.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: introspection: %v", webhook.ErrUpstream, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("%w: introspection answered %d", webhook.ErrUpstream, res.StatusCode)
	}
	var out struct {
		Active bool  `json:"active"`
		Exp    int64 `json:"exp"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&out); err != nil {
		return time.Time{}, fmt.Errorf("%w: introspection answer: %v", webhook.ErrUpstream, err)
	}
	if !out.Active {
		return time.Time{}, fmt.Errorf("%w: the token is not active", webhook.ErrSignature)
	}
	if out.Exp == 0 {
		return time.Time{}, nil
	}
	exp := time.Unix(out.Exp, 0)
	if !now.Before(exp) {
		return time.Time{}, fmt.Errorf("%w: the token expired at %s", webhook.ErrStale, exp.UTC().Format(time.RFC3339))
	}
	return exp, nil
}
