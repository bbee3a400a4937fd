package redis

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// ClientConfig is how source and target reach the server.
type ClientConfig struct {
	// URL is redis://[user:password@]host:port[/db] (rediss:// for TLS).
	// Default redis://127.0.0.1:6379/0.
	URL spec.Secret `json:"url,omitempty"`
	// Username and Password, when set, override those of the URL.
	Username string      `json:"username,omitempty"`
	Password spec.Secret `json:"password,omitempty"`
	// TLS encrypts the connection (rediss:// turns it on too).
	TLS connector.TLS `json:"tls,omitempty"`
}

func (c *ClientConfig) defaults() {
	if c.URL == "" {
		c.URL = "redis://127.0.0.1:6379/0"
	}
}

func (c *ClientConfig) validate(p spec.Problems) {
	if _, err := goredis.ParseURL(c.URL.Value()); err != nil {
		p.AddAt("url", "%v", err)
	}
	c.TLS.Validate(p.At("tls"))
}

// options builds the client options.
// options are the client's options; a non-nil guard holds every
// connection to the address dialled (a unix socket is refused).
func (c *ClientConfig) options(guard *netguard.Guard) (*goredis.Options, error) {
	o, err := goredis.ParseURL(c.URL.Value())
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if c.Username != "" {
		o.Username = c.Username
	}
	if c.Password != "" {
		o.Password = c.Password.Value()
	}
	tc, err := c.TLS.Build()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		o.TLSConfig = tc
	}
	o.DialTimeout = 5 * time.Second
	o.MaxRetries = 1
	// Reconnecting is the connector's loop's job, with its own backoff.
	o.MinRetryBackoff, o.MaxRetryBackoff = 50*time.Millisecond, 200*time.Millisecond
	o.DisableIdentity = true
	if guard != nil {
		// A custom dialer replaces go-redis's, TLS included.
		d, tc := guard.Dialer(&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 5 * time.Minute}), o.TLSConfig
		o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if tc == nil {
				return d.DialContext(ctx, network, addr)
			}
			return (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, network, addr)
		}
	}
	return o, nil
}

// SourceConfig configures a redis source. Exactly one of Stream and
// Channel is set.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Stream is read in a consumer group: at-least-once.
	Stream string `json:"stream,omitempty"`
	// Channel is subscribed to (a pattern when Pattern is set): at-most-once;
	// what is published while the source is disconnected is lost.
	Channel string `json:"channel,omitempty"`
	// Pattern makes Channel a PSUBSCRIBE glob pattern.
	Pattern bool `json:"pattern,omitempty"`
	// Group is the consumer group. Default "eventbridge-<source name>".
	Group string `json:"group,omitempty"`
	// Consumer names this reader in the group. Default the host name: a
	// restarted bridge then finds its own pending entries again.
	Consumer string `json:"consumer,omitempty"`
	// Start is where a new group starts: earliest (default; the whole
	// stream) or latest (entries added from now on).
	Start string `json:"start,omitempty"`
	// Batch is the most entries read (and stored) at once. Default 100.
	Batch int `json:"batch,omitempty"`
	// ClaimIdle is how long an entry stays pending with another consumer
	// (one that died) before this one claims it (XAUTOCLAIM). Default 1m.
	ClaimIdle spec.Duration `json:"claim_idle,omitempty"`
	// Config has ingest_timeout, the extension limits, and wrap, which
	// turns entries and messages that carry no CloudEvent into events.
	intake.Config `yaml:",inline"`
	// DeadLetter is a stream (or, for a channel source, a channel) that
	// entries which are not valid CloudEvents are copied to, with
	// eventbridge_error and eventbridge_origin fields, before they are
	// acknowledged. Without it they are logged, counted and acknowledged.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.Config.Defaults()
	c.defaults()
	if c.Consumer == "" {
		c.Consumer, _ = os.Hostname()
		if c.Consumer == "" {
			c.Consumer = "eventbridge"
		}
	}
	if c.Start == "" {
		c.Start = "earliest"
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.ClaimIdle == 0 {
		c.ClaimIdle = spec.Duration(time.Minute)
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.Config.Validate(p)
	c.validate(p)
	switch {
	case c.Stream == "" && c.Channel == "":
		p.Add("one of stream and channel is required")
	case c.Stream != "" && c.Channel != "":
		p.AddAt("channel", "stream and channel exclude each other")
	}
	if c.Pattern && c.Channel == "" {
		p.AddAt("pattern", "applies to channel only")
	}
	if c.Start != "earliest" && c.Start != "latest" {
		p.AddAt("start", "must be earliest or latest, not %q", c.Start)
	}
	if c.Batch < 1 || c.Batch > 10000 {
		p.AddAt("batch", "must be between 1 and 10000")
	}
	if c.ClaimIdle.D() < time.Second {
		p.AddAt("claim_idle", "must be at least 1s")
	}
	if c.DeadLetter != "" && (c.DeadLetter == c.Stream || c.DeadLetter == c.Channel) {
		p.AddAt("dead_letter", "must not be what the source reads")
	}
}

// TargetConfig configures a redis target. Exactly one of Stream and
// Channel is set; both are templates ("events.{type}").
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Stream receives the events (XADD).
	Stream string `json:"stream,omitempty"`
	// Channel receives the events (PUBLISH), in structured mode. Only
	// subscribers connected at that moment get them.
	Channel string `json:"channel,omitempty"`
	// Mode is binary (default: one field per attribute, and data) or
	// structured (one event field). Streams only.
	Mode Mode `json:"mode,omitempty"`
	// MaxLen trims the stream to about this many entries (MAXLEN ~).
	// Default 0: no trimming.
	MaxLen int64 `json:"max_len,omitempty"`
	// Timeout bounds one command. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// Batch, when set, writes the events of concurrent deliveries in one
	// pipeline (max_events, max_bytes, linger); each event still has its
	// own outcome.
	Batch *batch.Spec `json:"batch,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	c.defaults()
	if c.Batch != nil {
		c.Batch.Defaults()
	}
	if c.Mode == "" {
		c.Mode = ModeBinary
		if c.Channel != "" {
			c.Mode = ModeStructured
		}
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.validate(p)
	switch {
	case c.Stream == "" && c.Channel == "":
		p.Add("one of stream and channel is required")
	case c.Stream != "" && c.Channel != "":
		p.AddAt("channel", "stream and channel exclude each other")
	}
	for _, f := range [][2]string{{"stream", c.Stream}, {"channel", c.Channel}} {
		if _, err := attrtemplate.Parse(f[1]); err != nil {
			p.AddAt(f[0], "%v", err)
		}
	}
	switch {
	case c.Mode != ModeBinary && c.Mode != ModeStructured:
		p.AddAt("mode", "must be binary or structured, not %q", c.Mode)
	case c.Channel != "" && c.Mode != ModeStructured:
		p.AddAt("mode", "a channel carries structured events only")
	}
	if c.MaxLen < 0 {
		p.AddAt("max_len", "must not be negative")
	}
	if c.MaxLen > 0 && c.Channel != "" {
		p.AddAt("max_len", "applies to streams only")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.Batch != nil {
		c.Batch.Validate(p.At("batch"))
	}
}

var (
	_ connector.Config = (*SourceConfig)(nil)
	_ connector.Config = (*TargetConfig)(nil)
)

// OutboundAddresses implements connector.Outbound.
func (c *ClientConfig) OutboundAddresses() []connector.Address {
	o, err := goredis.ParseURL(c.URL.Value())
	if err != nil {
		return nil // refused by validate
	}
	return []connector.Address{{Field: "url", Value: o.Addr}}
}
