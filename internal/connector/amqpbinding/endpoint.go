package amqpbinding

import (
	"crypto/tls"
	"net/url"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Endpoint is the part of how a source or target reaches its broker that
// the amqp (0-9-1) and amqp1 (1.0) connectors share; each embeds it in its
// ConnConfig beside what only its protocol has.
type Endpoint struct {
	// URL is amqp://host:port (with a /vhost for 0-9-1), or amqps:// for
	// TLS. A user name may be in the URL; the password belongs in
	// Password.
	URL string `json:"url,omitempty"`
	// Username and Password authenticate with SASL PLAIN.
	Username string      `json:"username,omitempty"`
	Password spec.Secret `json:"password,omitempty"`
	// TLS configures amqps:// (or turns TLS on for amqp:// URLs).
	TLS connector.TLS `json:"tls,omitempty"`
	// ConnectTimeout bounds one connection attempt. Default 10s.
	ConnectTimeout spec.Duration `json:"connect_timeout,omitempty"`
	// ReconnectMax is the longest wait between reconnect attempts (they
	// start at 100ms and double). Default 10s.
	ReconnectMax spec.Duration `json:"reconnect_max,omitempty"`
}

// Defaults fills the unset fields; url is the protocol's default URL.
func (c *Endpoint) Defaults(url string) {
	if c.URL == "" {
		c.URL = url
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = spec.Duration(10 * time.Second)
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = spec.Duration(10 * time.Second)
	}
}

// Validate checks the fields.
func (c *Endpoint) Validate(p spec.Problems) {
	connector.ValidateURL(p, "url", c.URL, "amqp", "amqps")
	if c.ConnectTimeout.D() <= 0 {
		p.AddAt("connect_timeout", "must be positive")
	}
	if c.ReconnectMax.D() < 100*time.Millisecond {
		p.AddAt("reconnect_max", "must be at least 100ms")
	}
	c.TLS.Validate(p.At("tls"))
}

// OutboundAddresses implements connector.Outbound for the ConnConfigs
// that embed it.
func (c *Endpoint) OutboundAddresses() []connector.Address {
	return []connector.Address{{Field: "url", Value: c.URL}}
}

// TLSConfig is the TLS configuration of a connection to the URL: nil
// unless the URL is amqps:// or TLS is set; the server name defaults to
// the URL's host.
func (c *Endpoint) TLSConfig() (*tls.Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "amqps" && !c.TLS.On() {
		return nil, nil
	}
	tc, err := c.TLS.Config()
	if err != nil {
		return nil, err
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	return tc, nil
}

// NewReconnector returns what keeps connector name of type typ (amqp or
// amqp1) connected to the endpoint, reporting to conn, with a logger that
// names it; the caller sets Dial, Serve and Close. See
// connector.Reconnector.
func NewReconnector[S any](typ, name string, c *Endpoint, deps connector.Deps, conn *conntrack.Conn) *connector.Reconnector[S] {
	return &connector.Reconnector[S]{
		Name: name, Type: typ, Peer: connector.Redact(c.URL), Log: deps.Log("connector", name, "type", typ),
		Conn: conn, ReconnectMax: c.ReconnectMax.D(),
	}
}

// Format is how an amqp or amqp1 target encodes events.
type Format struct {
	// Mode is binary (attributes in headers or application properties,
	// body = data; default) or structured (body = the JSON event format).
	Mode string `json:"mode,omitempty"`
	// PropertyPrefix names the binary-mode headers or application
	// properties: "cloudEvents:" (default, the 1.0.2 binding) or
	// "cloudEvents_".
	PropertyPrefix string `json:"property_prefix,omitempty"`
}

// Defaults fills the unset fields.
func (f *Format) Defaults() {
	if f.Mode == "" {
		f.Mode = "binary"
	}
	if f.PropertyPrefix == "" {
		f.PropertyPrefix = PrefixColon
	}
}

// Validate checks the fields.
func (f *Format) Validate(p spec.Problems) {
	if f.Mode != "binary" && f.Mode != "structured" {
		p.AddAt("mode", "must be binary or structured, not %q", f.Mode)
	}
	if f.PropertyPrefix != PrefixColon && f.PropertyPrefix != PrefixUnderscore {
		p.AddAt("property_prefix", "must be %q or %q", PrefixColon, PrefixUnderscore)
	}
}
