// Package stripe is the stripe source: Stripe webhook events, checked with
// their Stripe-Signature (HMAC-SHA256 over "t.body", with a timestamp
// tolerance), as CloudEvents of type com.stripe.<event type>.
package stripe

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "stripe"

// DefaultTolerance is the tolerance of Stripe's own libraries.
const DefaultTolerance = 300 * time.Second

// Config configures a stripe source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Secret is the endpoint's signing secret (whsec_…), used as is.
	// Required.
	Secret spec.Secret `json:"secret"`
	// Tolerance is how far the signed timestamp may be from now. Default
	// 300s.
	Tolerance spec.Duration `json:"tolerance,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/stripe")
	if c.Tolerance == 0 {
		c.Tolerance = spec.Duration(DefaultTolerance)
	}
}

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.Secret == "" {
		p.AddAt("secret", "required: the endpoint's signing secret (whsec_…) from the Stripe dashboard")
	}
	if c.Tolerance.D() <= 0 {
		p.AddAt("tolerance", "must be positive")
	}
}

func init() {
	webhook.Register(TypeName,
		"receives Stripe webhook events (Stripe-Signature checked) as com.stripe.* CloudEvents",
		newSource)
}

func newSource(name string, c *Config, deps connector.Deps, o webhook.Options) *webhook.Source {
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, &handler{secret: []byte(c.Secret.Value()), tolerance: c.Tolerance.D()}, o)
}
