package http

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	nethttp "net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/eventbridge-dev/eventbridge/internal/circuit"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// RateLimit bounds the requests a target sends.
type RateLimit struct {
	// PerSecond is the sustained rate.
	PerSecond float64 `json:"per_second"`
	// Burst is how many requests may go at once after a quiet time.
	// Default: PerSecond rounded up (at least 1).
	Burst int `json:"burst,omitempty"`
}

// CircuitBreaker stops sending to an endpoint that keeps failing.
type CircuitBreaker struct {
	// Failures in a row (timeouts, connection errors, 408, 429, 5xx) that
	// open the breaker. Default 5.
	Failures int `json:"failures,omitempty"`
	// OpenFor is how long it stays open before one trial request.
	// Default 30s.
	OpenFor spec.Duration `json:"open_for,omitempty"`
}

// outboundDefaults fills the defaults of auth, rate_limit and
// circuit_breaker.
func (c *TargetConfig) outboundDefaults() {
	if c.Auth != nil {
		c.Auth.Defaults()
	}
	if r := c.RateLimit; r != nil && r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(r.PerSecond)))
	}
	if b := c.CircuitBreaker; b != nil {
		if b.Failures == 0 {
			b.Failures = 5
		}
		if b.OpenFor == 0 {
			b.OpenFor = spec.Duration(30 * time.Second)
		}
	}
}

func (c *TargetConfig) validateOutbound(p spec.Problems) {
	if c.Auth != nil {
		c.Auth.Validate(p.At("auth"))
	}
	if r := c.RateLimit; r != nil {
		if r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) || math.IsNaN(r.PerSecond) {
			p.AddAt("rate_limit.per_second", "must be a positive number of requests per second")
		}
		if r.Burst < 1 {
			p.AddAt("rate_limit.burst", "must be at least 1")
		}
	}
	if b := c.CircuitBreaker; b != nil {
		if b.Failures < 1 {
			p.AddAt("circuit_breaker.failures", "must be at least 1")
		}
		if b.OpenFor.D() <= 0 {
			p.AddAt("circuit_breaker.open_for", "must be positive")
		}
	}
	if c.Auth != nil {
		for name := range c.Headers {
			if c.Auth.APIKey == nil && nethttp.CanonicalHeaderKey(name) == "Authorization" ||
				c.Auth.APIKey != nil && nethttp.CanonicalHeaderKey(name) == nethttp.CanonicalHeaderKey(c.Auth.APIKey.Header) {
				p.AddAt("headers."+name, "auth sets this header")
			}
		}
	}
}

// outbound is what a target does around each request: credentials, the
// rate limit and the circuit breaker. Each part is optional.
type outbound struct {
	auth    httpauth.Authenticator
	limiter *rate.Limiter
	breaker *circuit.Breaker
}

func newOutbound(name string, cfg *TargetConfig, client *nethttp.Client, tr *component.Tracker, log *slog.Logger) *outbound {
	o := &outbound{auth: httpauth.New(cfg.Auth, httpauth.WithClient(client))}
	if r := cfg.RateLimit; r != nil {
		o.limiter = rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)
	}
	if b := cfg.CircuitBreaker; b != nil {
		o.breaker = circuit.New(b.Failures, b.OpenFor.D(), nil)
		tr.SetDetail("circuit", circuit.Closed.String())
		o.breaker.OnChange = func(from, to circuit.State) {
			tr.SetDetail("circuit", to.String())
			if log != nil {
				log.Warn("circuit breaker", "target", name, "from", from.String(), "to", to.String())
			}
		}
	}
	return o
}

// admit lets a request go: it refuses at once while the circuit is open
// (a retryable error carrying when to come back, so the delivery waits in
// RETRY), then waits for the rate limit until ctx is done. On nil, call
// the returned func with the request's outcome.
func (o *outbound) admit(ctx context.Context, method string) (func(ctx context.Context, err error), error) {
	if o.breaker != nil {
		if left, err := o.breaker.Allow(); err != nil {
			return nil, connector.RetryAfter(fmt.Errorf("http %s: %w", method, err), left)
		}
	}
	if o.limiter != nil {
		if err := o.limiter.Wait(ctx); err != nil {
			if o.breaker != nil {
				o.breaker.Abandon()
			}
			return nil, fmt.Errorf("http %s: rate limit: %w", method, err)
		}
	}
	return o.done, nil
}

// done tells the breaker how a request went. Answers that say the
// endpoint works (2xx, and refusals such as 400 that retrying cannot fix)
// close it; transport errors, 408, 429 and 5xx count as failures; a
// request given up by the caller tells nothing.
func (o *outbound) done(ctx context.Context, err error) {
	if o.breaker == nil {
		return
	}
	switch {
	case err == nil || connector.IsPermanent(err):
		o.breaker.Done(false)
	case ctx.Err() != nil:
		o.breaker.Abandon()
	default:
		o.breaker.Done(true)
	}
}
