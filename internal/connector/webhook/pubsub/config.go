// Package pubsub is the gcp-pubsub source: the endpoint of a Google Cloud
// Pub/Sub push subscription, wrapped or unwrapped, optionally
// authenticated by Google's OIDC token. Each message becomes a CloudEvent,
// or is one already (its data in the JSON format, or ce- attributes).
package pubsub

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "gcp-pubsub"

// Defaults.
const (
	DefaultEventType = "google.cloud.pubsub.topic.v1.messagePublished"
	GoogleJWKSURL    = "https://www.googleapis.com/oauth2/v3/certs"
)

// Config configures a gcp-pubsub source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Unwrapped: the subscription has payload unwrapping on, so the body is
	// the message data itself. Default false (the JSON push wrapper).
	Unwrapped bool `json:"unwrapped,omitempty"`
	// Source of the events. Default //pubsub.googleapis.com/ followed by
	// the wrapper's subscription; required when unwrapped.
	Source string `json:"source,omitempty"`
	// EventType is the type of the events. Default
	// google.cloud.pubsub.topic.v1.messagePublished.
	EventType string `json:"event_type,omitempty"`
	// SubjectAttribute names the message attribute that becomes the subject.
	SubjectAttribute string `json:"subject_attribute,omitempty"`
	// OIDC, when set, requires the subscription's authentication token.
	OIDC *OIDC `json:"oidc,omitempty"`
}

// OIDC says which tokens of Google to accept.
type OIDC struct {
	// Audience is the token's expected aud: the audience set on the
	// subscription (by default, Google uses the push endpoint URL). Required.
	Audience string `json:"audience"`
	// Emails, when set, lists the service accounts whose tokens are
	// accepted (the subscription's service account).
	Emails []string `json:"emails,omitempty"`
	// JWKSURL is where Google's signing keys are fetched (and cached).
	// Default https://www.googleapis.com/oauth2/v3/certs.
	JWKSURL string `json:"jwks_url,omitempty"`
	// JWKSFile reads the keys from a file instead (read once, at start).
	JWKSFile string `json:"jwks_file,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/gcp-pubsub")
	if c.EventType == "" {
		c.EventType = DefaultEventType
	}
	if c.OIDC != nil && c.OIDC.JWKSURL == "" && c.OIDC.JWKSFile == "" {
		c.OIDC.JWKSURL = GoogleJWKSURL
	}
}

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.Unwrapped && c.Source == "" {
		p.AddAt("source", "required with unwrapped: an unwrapped message does not name its subscription")
	}
	if c.Source != "" {
		if u, err := url.Parse(c.Source); err != nil || u.String() != c.Source {
			p.AddAt("source", "must be a URI-reference written as RFC 3986 would")
		}
	}
	if o := c.OIDC; o != nil {
		op := p.At("oidc")
		if o.Audience == "" {
			op.AddAt("audience", "required: the audience set on the push subscription (by default its endpoint URL)")
		}
		if o.JWKSURL != "" && o.JWKSFile != "" {
			op.Add("jwks_url and jwks_file exclude each other")
		}
		if o.JWKSURL != "" {
			if u, err := url.Parse(o.JWKSURL); err != nil || u.Scheme != "https" || u.Host == "" {
				op.AddAt("jwks_url", "must be an https URL")
			}
		}
	}
}

func init() {
	webhook.RegisterFallible(TypeName,
		"receives Google Cloud Pub/Sub push deliveries (optionally OIDC-authenticated) as CloudEvents",
		newSource)
}

// options are the test hooks.
type options struct {
	webhook.Options
	// client fetches the JWKS. Default: 10s timeout, no redirects.
	client *http.Client
}

func newSource(name string, c *Config, deps connector.Deps, o options) (*webhook.Source, error) {
	h := &handler{cfg: c}
	if c.OIDC != nil {
		if o.client == nil {
			o.client = &http.Client{
				Transport:     deps.Guard.Transport(),
				Timeout:       10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
		keys, err := newKeySet(c.OIDC, o.client)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		h.oidc = newVerifier(c.OIDC, keys)
		o.Challenge = `Bearer realm="eventbridge"`
	}
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, h, o.Options), nil
}

// OutboundAddresses implements connector.Outbound.
func (c *Config) OutboundAddresses() []connector.Address {
	if c.OIDC != nil && c.OIDC.JWKSURL != "" {
		return []connector.Address{{Field: "oidc.jwks_url", Value: c.OIDC.JWKSURL}}
	}
	return nil
}

var _ connector.Outbound = (*Config)(nil)
