package http

import (
	nethttp "net/http"

	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	pub "github.com/eventbridge-dev/eventbridge/pkg/connector"
)

// RateLimit and CircuitBreaker are the rate_limit and circuit_breaker
// settings every target kind has (connector.Common): delivery enforces
// them around Send, for http targets as for the others. The http target's
// YAML is unchanged.
type (
	RateLimit      = pub.RateLimit
	CircuitBreaker = pub.CircuitBreaker
)

// outboundDefaults fills the defaults of auth, rate_limit and
// circuit_breaker.
func (c *TargetConfig) outboundDefaults() {
	if c.Auth != nil {
		c.Auth.Defaults()
	}
	c.RateLimit.Defaults()
	c.CircuitBreaker.Defaults()
}

func (c *TargetConfig) validateOutbound(p spec.Problems) {
	if c.Auth != nil {
		c.Auth.Validate(p.At("auth"))
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

// outbound is what a target does around each request: credentials.
// (Its rate limit and circuit breaker are delivery's: see NewGuard in
// internal/delivery.)
type outbound struct {
	auth httpauth.Authenticator
}

func newOutbound(cfg *TargetConfig, client *nethttp.Client) *outbound {
	return &outbound{auth: httpauth.New(cfg.Auth, httpauth.WithClient(client))}
}
