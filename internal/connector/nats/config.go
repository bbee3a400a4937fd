package nats

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// ConnConfig is how a NATS connector reaches its server. It is not the
// bridge's own bus: any NATS server or cluster.
type ConnConfig struct {
	// URL is the server: nats://host:4222 (tls://, ws://, wss:// too);
	// several, comma-separated, for a cluster.
	URL string `json:"url"`
	// Credentials is a NATS credentials file (JWT and seed).
	Credentials string `json:"credentials,omitempty"`
	// NKey is an nkey seed ("SU..."), such as ${file:/run/secrets/user.nk}.
	NKey spec.Secret `json:"nkey,omitempty"`
	// Token is an authentication token.
	Token spec.Secret `json:"token,omitempty"`
	// User and Password authenticate with a user name.
	User     string      `json:"user,omitempty"`
	Password spec.Secret `json:"password,omitempty"`
	// TLS configures the connection's TLS (tls:// URLs or servers that
	// require it).
	TLS connector.TLS `json:"tls,omitzero"`
	// ConnectTimeout bounds one connection attempt. Default 5s.
	ConnectTimeout spec.Duration `json:"connect_timeout,omitempty"`
	// ReconnectWait is the pause between reconnection attempts (with
	// jitter). Default 1s.
	ReconnectWait spec.Duration `json:"reconnect_wait,omitempty"`
}

func (c *ConnConfig) defaults() {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = spec.Duration(5 * time.Second)
	}
	if c.ReconnectWait == 0 {
		c.ReconnectWait = spec.Duration(time.Second)
	}
}

func (c *ConnConfig) validate(p spec.Problems) {
	if strings.TrimSpace(c.URL) == "" {
		p.AddAt("url", "required: the NATS server, such as nats://127.0.0.1:4222")
	}
	for _, s := range strings.Split(c.URL, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		u, err := url.Parse(s)
		switch {
		case err != nil:
			p.AddAt("url", "not a URL: %v", spec.URLParseError(err))
		case u.User != nil:
			spec.CheckUserinfo(p.At("url"), u, "user and password, or token")
		case u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss":
			p.AddAt("url", "%q: the scheme must be nats, tls, ws or wss", s)
		case u.Host == "":
			p.AddAt("url", "%q: must name a host", s)
		}
	}
	n := 0
	for _, set := range []bool{c.Credentials != "", c.NKey != "", c.Token != "", c.User != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		p.Add("credentials, nkey, token and user are different ways to authenticate: use one")
	}
	if c.Password != "" && c.User == "" {
		p.AddAt("password", "needs a user")
	}
	c.TLS.Validate(p.At("tls"))
	if c.ConnectTimeout.D() <= 0 {
		p.AddAt("connect_timeout", "must be positive")
	}
	if c.ReconnectWait.D() <= 0 {
		p.AddAt("reconnect_wait", "must be positive")
	}
}

// validSubject checks a subject to publish to: dot-separated non-empty
// tokens, no wildcards, no white space.
func validSubject(s string) error {
	if err := validTokens(s); err != nil {
		return err
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "*" || tok == ">" {
			return fmt.Errorf("subject %q: wildcards cannot be published to", s)
		}
	}
	return nil
}

// validFilter checks a subject to subscribe to: wildcards allowed, ">"
// only last.
func validFilter(s string) error {
	if err := validTokens(s); err != nil {
		return err
	}
	toks := strings.Split(s, ".")
	for i, tok := range toks {
		if tok == ">" && i != len(toks)-1 {
			return fmt.Errorf("subject %q: > must be the last token", s)
		}
	}
	return nil
}

func validTokens(s string) error {
	if s == "" {
		return fmt.Errorf("empty subject")
	}
	if strings.ContainsAny(s, " \t\r\n\x00") {
		return fmt.Errorf("subject %q: no white space allowed", s)
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" {
			return fmt.Errorf("subject %q: empty token", s)
		}
	}
	return nil
}

// Common options of sources and targets.

// IntakeConfig are the options every NATS source has.
type IntakeConfig struct {
	// BatchConfig: max_batch, timeout, wrap and the extension limits (a
	// message over them is dead-lettered, or dropped with a log).
	intake.BatchConfig `yaml:",inline"`
	// DeadLetter is a subject where messages that are not valid
	// CloudEvents (and not wrapped) are published as they came, with the
	// reason in the header Eventbridge-Error.
	DeadLetter string `json:"dead_letter,omitempty"`
}

func (c *IntakeConfig) defaults() {
	c.BatchConfig.Defaults()
}

func (c *IntakeConfig) validate(p spec.Problems) {
	c.BatchConfig.Validate(p)
	if c.DeadLetter != "" {
		if err := validSubject(c.DeadLetter); err != nil {
			p.AddAt("dead_letter", "%v", err)
		}
	}
}

// OutputConfig are the options every NATS target has.
type OutputConfig struct {
	// Subject is where events are published: a template with {attribute}
	// placeholders, such as "events.{type}".
	Subject string `json:"subject"`
	// Mode is binary (ce- headers; default) or structured.
	Mode Mode `json:"mode,omitempty"`
	// Timeout bounds one publish. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// Batch, when set, publishes the messages of concurrent deliveries
	// together and waits for them at once (max_events, max_bytes,
	// linger); each event still has its own outcome.
	Batch *batch.Spec `json:"batch,omitempty"`
	// MaxInFlight is the most deliveries to this target in flight at
	// once: every route to it gets at least this many workers (its
	// rule's delivery.concurrency is raised to it). Each delivery still
	// waits for the server (a flush, or the stream's acknowledgement)
	// before it is settled; concurrent ones share that round trip, so the
	// window, not the round trip, bounds the rate. Default 256.
	MaxInFlight int `json:"max_in_flight,omitempty"`

	subject *attrtemplate.Template
}

// DefaultMaxInFlight is the default max_in_flight of the nats and
// jetstream targets.
const DefaultMaxInFlight = 256

func (c *OutputConfig) defaults() {
	if c.Mode == "" {
		c.Mode = ModeBinary
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	if c.Batch != nil {
		c.Batch.Defaults()
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
}

func (c *OutputConfig) validate(p spec.Problems) {
	t, err := attrtemplate.Parse(c.Subject)
	switch {
	case c.Subject == "":
		p.AddAt("subject", "required: the subject to publish to, such as events.{type}")
	case err != nil:
		p.AddAt("subject", "%v", err)
	case !t.HasPlaceholders():
		if err := validSubject(c.Subject); err != nil {
			p.AddAt("subject", "%v", err)
		}
	}
	c.subject = nil
	if err == nil {
		c.subject = &t
	}
	if c.Mode != ModeBinary && c.Mode != ModeStructured {
		p.AddAt("mode", "must be binary or structured, not %q", c.Mode)
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.Batch != nil {
		c.Batch.Validate(p.At("batch"))
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 4096 {
		p.AddAt("max_in_flight", "must be between 1 and 4096")
	}
}

// template returns the parsed subject template.
func (c *OutputConfig) template() (attrtemplate.Template, error) {
	if c.subject != nil {
		return *c.subject, nil
	}
	return attrtemplate.Parse(c.Subject)
}

// OutboundAddresses implements connector.Outbound: each server of the
// comma-separated list.
func (c *ConnConfig) OutboundAddresses() []connector.Address {
	var out []connector.Address
	for i, u := range strings.Split(c.URL, ",") {
		out = append(out, connector.Address{Field: fmt.Sprintf("url[%d]", i), Value: strings.TrimSpace(u)})
	}
	return out
}
