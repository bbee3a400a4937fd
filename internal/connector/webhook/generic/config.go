// Package generic is the webhook source: any webhook, authenticated by an
// HMAC signature (header, algorithm, encoding, prefix, optional signed
// timestamp) or by a bearer token or basic credentials, and mapped to a
// CloudEvent by jq expressions over its headers and body.
package generic

import (
	"regexp"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "webhook"

// DefaultTolerance is hmac.tolerance when unset.
const DefaultTolerance = 5 * time.Minute

// Config configures a webhook source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Auth is how senders prove who they are: exactly one of hmac,
	// bearer, basic.
	Auth Auth `json:"auth"`
	// Event maps a request to the CloudEvent's attributes.
	Event Mapping `json:"event"`
}

// Auth holds one way to authenticate.
type Auth struct {
	HMAC   *HMAC   `json:"hmac,omitempty"`
	Bearer *Bearer `json:"bearer,omitempty"`
	Basic  *Basic  `json:"basic,omitempty"`
}

// HMAC is a signature of the body (and maybe a timestamp) in a header.
type HMAC struct {
	// Secret is the HMAC key, as the sender has it. Required.
	Secret spec.Secret `json:"secret"`
	// Header carries the signature. Required. It may hold several
	// signatures separated by commas or spaces (a sender rolling its
	// secret); one must match.
	Header string `json:"header"`
	// Algorithm is sha256 (default), sha1 or sha512.
	Algorithm webhook.Hash `json:"algorithm,omitempty"`
	// Encoding of the signature: hex (default) or base64.
	Encoding webhook.Encoding `json:"encoding,omitempty"`
	// Prefix comes before each signature in the header ("sha256=").
	Prefix string `json:"prefix,omitempty"`
	// TimestampHeader, when set, carries the Unix time (seconds) the
	// sender signed at; it must be signed (see Payload) and within
	// Tolerance of now.
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// Tolerance for the signed timestamp. Default 5m.
	Tolerance spec.Duration `json:"tolerance,omitempty"`
	// Payload is what is signed: {body} (the default), or with a
	// timestamp {timestamp}.{body} (the default then), or any text
	// around these placeholders.
	Payload string `json:"payload,omitempty"`
}

// Bearer accepts Authorization: Bearer with one of Tokens.
type Bearer struct {
	Tokens []spec.Secret `json:"tokens"`
}

// Basic accepts HTTP basic credentials.
type Basic struct {
	Username string      `json:"username"`
	Password spec.Secret `json:"password"`
}

// Mapping holds a jq expression per attribute. Each runs over
// {"headers": {<lower-case name>: <value>}, "body": <the body parsed as
// JSON, or as a string when it is not JSON>} and must give a string (or a
// number); its first output is taken.
type Mapping struct {
	// Type and Source are required: '"com.example.order"', '.body.source'.
	Type   string `json:"type"`
	Source string `json:"source"`
	// ID defaults to the SHA-256 of the body, so a retried body is stored once.
	ID string `json:"id,omitempty"`
	// Subject and Time are optional; time may be RFC 3339 or Unix seconds.
	Subject string `json:"subject,omitempty"`
	Time    string `json:"time,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/webhook")
	if h := c.Auth.HMAC; h != nil {
		if h.Algorithm == "" {
			h.Algorithm = webhook.SHA256
		}
		if h.Encoding == "" {
			h.Encoding = webhook.Hex
		}
		if h.Tolerance == 0 {
			h.Tolerance = spec.Duration(DefaultTolerance)
		}
		if h.Payload == "" {
			h.Payload = "{body}"
			if h.TimestampHeader != "" {
				h.Payload = "{timestamp}.{body}"
			}
		}
	}
}

var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	ap := p.At("auth")
	n := 0
	if h := c.Auth.HMAC; h != nil {
		n++
		hp := ap.At("hmac")
		if h.Secret == "" {
			hp.AddAt("secret", "required")
		}
		if !headerName.MatchString(h.Header) {
			hp.AddAt("header", "required: the header that carries the signature")
		}
		if h.Algorithm.New() == nil {
			hp.AddAt("algorithm", "must be sha256, sha1 or sha512")
		}
		if h.Encoding != webhook.Hex && h.Encoding != webhook.Base64 {
			hp.AddAt("encoding", "must be hex or base64")
		}
		if h.TimestampHeader != "" && !headerName.MatchString(h.TimestampHeader) {
			hp.AddAt("timestamp_header", "must be a header name")
		}
		if h.Tolerance.D() <= 0 {
			hp.AddAt("tolerance", "must be positive")
		}
		if strings.Count(h.Payload, "{body}") != 1 {
			hp.AddAt("payload", "must hold {body} once")
		}
		if ts := strings.Count(h.Payload, "{timestamp}"); (h.TimestampHeader != "") != (ts == 1) || ts > 1 {
			hp.AddAt("payload", "must hold {timestamp} once exactly when timestamp_header is set: the timestamp must be signed")
		}
	}
	if b := c.Auth.Bearer; b != nil {
		n++
		if len(b.Tokens) == 0 {
			ap.AddAt("bearer.tokens", "required: at least one token")
		}
	}
	if b := c.Auth.Basic; b != nil {
		n++
		if b.Username == "" || b.Password == "" {
			ap.AddAt("basic", "needs username and password")
		}
	}
	if n != 1 {
		ap.Add("required: exactly one of hmac, bearer, basic")
	}
	ep := p.At("event")
	for _, f := range []struct {
		name, src string
		required  bool
	}{{"type", c.Event.Type, true}, {"source", c.Event.Source, true}, {"id", c.Event.ID, false}, {"subject", c.Event.Subject, false}, {"time", c.Event.Time, false}} {
		if f.src == "" {
			if f.required {
				ep.AddAt(f.name, "required: a jq expression (a constant is a quoted string: '\"com.example.thing\"')")
			}
			continue
		}
		if _, err := compile(f.src); err != nil {
			ep.AddAt(f.name, "%v", err)
		}
	}
}

func init() {
	webhook.RegisterFallible(TypeName,
		"receives any webhook (HMAC, bearer or basic) and maps it to a CloudEvent with jq",
		newSource)
}

func newSource(name string, c *Config, deps connector.Deps, o webhook.Options) (*webhook.Source, error) {
	m, err := compileMapping(&c.Event)
	if err != nil {
		return nil, err
	}
	h := &handler{cfg: c, mapping: m, guard: webhook.NewReplayGuard(webhook.ReplayWindow, webhook.ReplayEntries)}
	switch {
	case c.Auth.Bearer != nil:
		o.Challenge = `Bearer realm="eventbridge"`
	case c.Auth.Basic != nil:
		o.Challenge = `Basic realm="eventbridge"`
	}
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, h, o), nil
}
