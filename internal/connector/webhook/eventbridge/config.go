// Package eventbridge is the eventbridge source: the receiving end of an
// Amazon EventBridge API destination. It checks the credentials of the
// destination's connection (basic, an API key header, or an OAuth
// client-credentials bearer token) and turns each EventBridge event
// envelope into a CloudEvent whose data is the envelope's detail.
package eventbridge

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "eventbridge"

// Config configures an eventbridge source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Auth is how the API destination's connection authenticates. Required:
	// exactly one of basic, api_key, oauth.
	Auth Auth `json:"auth"`
	// Wrap, when set, turns a body that is neither an EventBridge envelope
	// nor a CloudEvent (the output of an input transformer) into a
	// CloudEvent of this type and source, with a new id.
	Wrap *connector.Wrap `json:"wrap,omitempty"`
}

// Auth holds one way to authenticate.
type Auth struct {
	Basic  *Basic  `json:"basic,omitempty"`
	APIKey *APIKey `json:"api_key,omitempty"`
	OAuth  *OAuth  `json:"oauth,omitempty"`
}

// Basic is the connection's basic authorization.
type Basic struct {
	Username string      `json:"username"`
	Password spec.Secret `json:"password"`
}

// APIKey is the connection's API key: a header name and its value.
type APIKey struct {
	Header string      `json:"header"`
	Value  spec.Secret `json:"value"`
}

// OAuth checks the bearer token EventBridge got from your authorization
// endpoint with the connection's client credentials: either against a
// list of tokens (for an endpoint that hands out static tokens), or by
// asking the authorization server (OAuth 2.0 token introspection, RFC 7662).
type OAuth struct {
	// Tokens are accepted as they are.
	Tokens []spec.Secret `json:"tokens,omitempty"`
	// Introspection asks the authorization server about each new token.
	Introspection *Introspection `json:"introspection,omitempty"`
}

// Introspection is an RFC 7662 token introspection endpoint.
type Introspection struct {
	// URL of the endpoint (https, or http on loopback).
	URL string `json:"url"`
	// ClientID and ClientSecret authenticate the bridge to it (basic).
	ClientID     string      `json:"client_id,omitempty"`
	ClientSecret spec.Secret `json:"client_secret,omitempty"`
	// Cache is how long an active token is trusted without asking again
	// (never past its exp). Default 1m.
	Cache spec.Duration `json:"cache,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/eventbridge")
	if i := c.Auth.introspection(); i != nil && i.Cache == 0 {
		i.Cache = spec.Duration(time.Minute)
	}
}

func (a *Auth) introspection() *Introspection {
	if a.OAuth == nil {
		return nil
	}
	return a.OAuth.Introspection
}

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	a, ap := c.Auth, p.At("auth")
	n := 0
	if a.Basic != nil {
		n++
		if a.Basic.Username == "" || a.Basic.Password == "" {
			ap.AddAt("basic", "needs username and password")
		}
	}
	if a.APIKey != nil {
		n++
		if a.APIKey.Header == "" || a.APIKey.Value == "" {
			ap.AddAt("api_key", "needs header and value")
		} else if strings.EqualFold(a.APIKey.Header, "Authorization") || !headerName.MatchString(a.APIKey.Header) {
			ap.AddAt("api_key.header", "must be a header name other than Authorization")
		}
	}
	if o := a.OAuth; o != nil {
		n++
		op := ap.At("oauth")
		if (len(o.Tokens) == 0) == (o.Introspection == nil) {
			op.Add("needs either tokens or introspection")
		}
		if i := o.Introspection; i != nil {
			u, err := url.Parse(i.URL)
			if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
				op.AddAt("introspection.url", "must be an https URL (or http on loopback)")
			} else {
				spec.CheckUserinfo(op.At("introspection.url"), u, "introspection.client_id and introspection.client_secret")
			}
			if i.Cache.D() < 0 {
				op.AddAt("introspection.cache", "must not be negative")
			}
		}
	}
	if n != 1 {
		ap.Add("required: exactly one of basic, api_key, oauth (the API destination's connection)")
	}
	if c.Wrap != nil {
		c.Wrap.Validate(p.At("wrap"))
	}
}

// headerName is an HTTP field name (RFC 9110 token).
var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func init() {
	webhook.Register(TypeName,
		"receives events from an Amazon EventBridge API destination (basic, API key or OAuth) as CloudEvents",
		newSource)
}

// options are the test hooks.
type options struct {
	webhook.Options
	// client calls the introspection endpoint. Default: 5s timeout, no
	// redirects.
	client *http.Client
}

func newSource(name string, c *Config, deps connector.Deps, o options) *webhook.Source {
	if o.client == nil {
		o.client = &http.Client{
			Transport:     deps.Guard.Transport(),
			Timeout:       5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	o.Methods = []string{http.MethodPost, http.MethodPut, http.MethodPatch}
	if c.Auth.OAuth != nil || c.Auth.Basic != nil {
		o.Challenge = `Bearer realm="eventbridge"`
		if c.Auth.Basic != nil {
			o.Challenge = `Basic realm="eventbridge"`
		}
	}
	h := &handler{cfg: c, check: newChecker(c.Auth, o.client)}
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, h, o.Options)
}

// OutboundAddresses implements connector.Outbound.
func (c *Config) OutboundAddresses() []connector.Address {
	if i := c.Auth.introspection(); i != nil {
		return []connector.Address{{Field: "auth.oauth.introspection.url", Value: i.URL}}
	}
	return nil
}

var _ connector.Outbound = (*Config)(nil)
