// Package httpauth adds credentials to outgoing HTTP requests: basic auth,
// a bearer token, an API key header, or an OAuth2 access token obtained
// with the client credentials grant (RFC 6749 §4.4), cached and refreshed
// before it expires. The poll source and the http target share it.
package httpauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Config is the `auth` option: set exactly one of its fields.
type Config struct {
	// Basic sends "Authorization: Basic …".
	Basic *Basic `json:"basic,omitempty"`
	// Bearer sends "Authorization: Bearer <token>".
	Bearer spec.Secret `json:"bearer,omitempty"`
	// APIKey sends a key in a header.
	APIKey *APIKey `json:"api_key,omitempty"`
	// OAuth2 fetches an access token with the client credentials grant
	// and sends it as a bearer token.
	OAuth2 *OAuth2 `json:"oauth2,omitempty"`
}

// Basic is HTTP basic authentication.
type Basic struct {
	Username string      `json:"username"`
	Password spec.Secret `json:"password"`
}

// APIKey is a key sent in a header.
type APIKey struct {
	// Header carries the key. Default X-API-Key.
	Header string `json:"header,omitempty"`
	// Value is the key.
	Value spec.Secret `json:"value"`
}

// OAuth2 is the client credentials grant.
type OAuth2 struct {
	// TokenURL is the authorization server's token endpoint.
	TokenURL     string      `json:"token_url"`
	ClientID     string      `json:"client_id"`
	ClientSecret spec.Secret `json:"client_secret"`
	// Scopes are asked for (the scope parameter, space-separated).
	Scopes []string `json:"scopes,omitempty"`
	// Params are more form parameters of the token request (audience,
	// resource…).
	Params map[string]string `json:"params,omitempty"`
	// ClientAuth is how the client authenticates to the token endpoint:
	// header (HTTP basic, the default, RFC 6749 §2.3.1) or body
	// (client_id and client_secret form parameters).
	ClientAuth string `json:"client_auth,omitempty"`
	// Timeout bounds one token request. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.APIKey != nil && c.APIKey.Header == "" {
		c.APIKey.Header = "X-API-Key"
	}
	if c.OAuth2 != nil {
		if c.OAuth2.ClientAuth == "" {
			c.OAuth2.ClientAuth = "header"
		}
		if c.OAuth2.Timeout == 0 {
			c.OAuth2.Timeout = spec.Duration(10 * time.Second)
		}
	}
}

// OutboundAddresses lists the addresses c connects to (the OAuth2 token
// endpoint), with their paths under prefix; nil c has none.
func (c *Config) OutboundAddresses(prefix string) []connector.Address {
	if c == nil || c.OAuth2 == nil {
		return nil
	}
	return []connector.Address{{Field: prefix + ".oauth2.token_url", Value: c.OAuth2.TokenURL}}
}

// Validate reports problems under p (the path of the auth option).
func (c *Config) Validate(p spec.Problems) {
	n := 0
	for _, set := range []bool{c.Basic != nil, c.Bearer != "", c.APIKey != nil, c.OAuth2 != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		p.Add("set exactly one of basic, bearer, api_key and oauth2")
		return
	}
	switch {
	case c.Basic != nil:
		if c.Basic.Username == "" {
			p.AddAt("basic.username", "required")
		}
	case c.APIKey != nil:
		if c.APIKey.Value == "" {
			p.AddAt("api_key.value", "required")
		}
		if strings.ContainsAny(c.APIKey.Header, " :\t\r\n") || strings.EqualFold(c.APIKey.Header, "host") {
			p.AddAt("api_key.header", "not a usable header name")
		}
	case c.OAuth2 != nil:
		o := c.OAuth2
		if u, err := url.Parse(o.TokenURL); o.TokenURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.AddAt("oauth2.token_url", "required: an http:// or https:// URL")
		} else {
			spec.CheckUserinfo(p.At("oauth2.token_url"), u, "oauth2.client_id and oauth2.client_secret")
		}
		if o.ClientID == "" {
			p.AddAt("oauth2.client_id", "required")
		}
		if o.ClientSecret == "" {
			p.AddAt("oauth2.client_secret", "required")
		}
		if o.ClientAuth != "header" && o.ClientAuth != "body" {
			p.AddAt("oauth2.client_auth", "must be header or body")
		}
		if o.Timeout.D() <= 0 {
			p.AddAt("oauth2.timeout", "must be positive")
		}
	}
}

// Authenticator adds credentials to requests. Safe for concurrent use.
type Authenticator interface {
	// Apply adds the credentials to req. With OAuth2 it may first fetch
	// a token, and then blocks until it has one or ctx is done.
	Apply(ctx context.Context, req *http.Request) error
	// Reject tells that the server refused the credentials (HTTP 401). A
	// cached token is dropped so that the next Apply fetches a new one;
	// Reject reports whether trying again with it may help.
	Reject() bool
}

// Option changes how New builds an Authenticator.
type Option func(*options)

type options struct {
	client *http.Client
	now    func() time.Time
}

// WithClient sets the client of token requests. Default: a plain client.
func WithClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the time tokens expire against (for tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns the Authenticator of c (Defaults applied); nil c adds nothing.
func New(c *Config, opts ...Option) Authenticator {
	o := options{client: &http.Client{}, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case c == nil:
		return none{}
	case c.Basic != nil:
		return basic{c.Basic.Username, c.Basic.Password.Value()}
	case c.Bearer != "":
		return header{"Authorization", "Bearer " + c.Bearer.Value()}
	case c.APIKey != nil:
		return header{c.APIKey.Header, c.APIKey.Value.Value()}
	case c.OAuth2 != nil:
		return newTokenSource(c.OAuth2, o)
	}
	return none{}
}

type none struct{}

func (none) Apply(context.Context, *http.Request) error { return nil }
func (none) Reject() bool                               { return false }

type basic struct{ user, pass string }

func (b basic) Apply(_ context.Context, r *http.Request) error {
	r.SetBasicAuth(b.user, b.pass)
	return nil
}
func (basic) Reject() bool { return false }

type header struct{ name, value string }

func (h header) Apply(_ context.Context, r *http.Request) error {
	r.Header.Set(h.name, h.value)
	return nil
}
func (header) Reject() bool { return false }

var (
	_ Authenticator = none{}
	_ Authenticator = basic{}
	_ Authenticator = header{}
	_ Authenticator = (*tokenSource)(nil)
)
