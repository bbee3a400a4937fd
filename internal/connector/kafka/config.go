package kafka

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// ClientConfig is how source and target reach the cluster.
type ClientConfig struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string `json:"brokers"`
	// ClientID names the client to the brokers. Default "eventbridge".
	ClientID string `json:"client_id,omitempty"`
	// SASL authenticates the client.
	SASL *SASLConfig `json:"sasl,omitempty"`
	// TLS encrypts the connections.
	TLS connector.TLS `json:"tls,omitempty"`
	// AutoCreateTopics lets the brokers create topics that do not exist
	// yet when the client asks for them (if the brokers allow it).
	AutoCreateTopics bool `json:"auto_create_topics,omitempty"`
}

// SASLConfig is SASL authentication.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string      `json:"mechanism"`
	Username  string      `json:"username"`
	Password  spec.Secret `json:"password"`
}

func (c *ClientConfig) defaults() {
	if c.ClientID == "" {
		c.ClientID = "eventbridge"
	}
	if c.SASL != nil {
		c.SASL.Mechanism = strings.ToUpper(c.SASL.Mechanism)
	}
}

func (c *ClientConfig) validate(p spec.Problems) {
	if len(c.Brokers) == 0 {
		p.AddAt("brokers", "required: at least one host:port")
	}
	for i, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			p.At("brokers").Index(i).Add("must be host:port: %v", err)
		}
	}
	if s := c.SASL; s != nil {
		switch s.Mechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			p.AddAt("sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not %q", s.Mechanism)
		}
		if s.Username == "" {
			p.AddAt("sasl.username", "required")
		}
	}
	c.TLS.Validate(p.At("tls"))
}

// opts are the kgo options both sides share.
// opts are the client's options; a non-nil guard holds every connection
// (to the seed brokers and those the cluster announces) to the address
// dialled.
func (c *ClientConfig) opts(guard *netguard.Guard) ([]kgo.Opt, error) {
	o := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.DialTimeout(5 * time.Second),
		// Bounds on a broker that is gone, so that the probe notices it.
		kgo.RetryTimeout(10 * time.Second),
		kgo.MetadataMinAge(time.Second),
	}
	if c.AutoCreateTopics {
		o = append(o, kgo.AllowAutoTopicCreation())
	}
	tc, err := c.TLS.Build()
	if err != nil {
		return nil, err
	}
	switch {
	case guard != nil:
		// kgo.Dialer replaces DialTLSConfig: TLS is done here.
		d := guard.Dialer(&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 5 * time.Minute})
		o = append(o, kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
			if tc == nil {
				return d.DialContext(ctx, network, host)
			}
			cfg := tc.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName, _, _ = net.SplitHostPort(host)
			}
			return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, network, host)
		}))
	case tc != nil:
		o = append(o, kgo.DialTLSConfig(tc))
	}
	if s := c.SASL; s != nil {
		switch s.Mechanism {
		case "PLAIN":
			o = append(o, kgo.SASL(plain.Auth{User: s.Username, Pass: s.Password.Value()}.AsMechanism()))
		case "SCRAM-SHA-256":
			o = append(o, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password.Value()}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			o = append(o, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password.Value()}.AsSha512Mechanism()))
		}
	}
	return o, nil
}

// topicRE is what Kafka accepts as a topic name.
var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// SourceConfig configures a kafka source.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Topics are read. Required.
	Topics []string `json:"topics"`
	// Group is the consumer group. Default "eventbridge-<source name>".
	Group string `json:"group,omitempty"`
	// Start is where a group without committed offsets starts: earliest
	// (default; nothing produced before the first start is missed) or latest.
	Start string `json:"start,omitempty"`
	// MaxPollRecords bounds the records stored in one Ingest. Default 500.
	MaxPollRecords int `json:"max_poll_records,omitempty"`
	// CommitInterval is the least time between two commits of the
	// group's offsets. Offsets are committed only once their records are
	// stored; what is stored meanwhile goes in the next commit, and on
	// stopping or when partitions move they are committed at once. After
	// a crash up to this much is read again (the bus drops the
	// duplicates). Default 1s.
	CommitInterval spec.Duration `json:"commit_interval,omitempty"`
	// Config has ingest_timeout, the extension limits, and wrap, which
	// turns records that carry no CloudEvent (no ce_ headers, no
	// structured content type) into events.
	intake.Config `yaml:",inline"`
	// DeadLetter is a topic that records which are not valid CloudEvents
	// are copied to (headers, key and value as they were, plus
	// eventbridge_error and eventbridge_origin headers) before their offset
	// is committed. Without it they are logged, counted and skipped.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.Config.Defaults()
	c.defaults()
	if c.Start == "" {
		c.Start = "earliest"
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 500
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = spec.Duration(time.Second)
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.Config.Validate(p)
	c.validate(p)
	if len(c.Topics) == 0 {
		p.AddAt("topics", "required: at least one topic")
	}
	for i, t := range c.Topics {
		if !topicRE.MatchString(t) {
			p.At("topics").Index(i).Add("%q is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)", t)
		}
	}
	if c.Start != "earliest" && c.Start != "latest" {
		p.AddAt("start", "must be earliest or latest, not %q", c.Start)
	}
	if c.MaxPollRecords < 1 {
		p.AddAt("max_poll_records", "must be at least 1")
	}
	if c.CommitInterval.D() < time.Millisecond || c.CommitInterval.D() > time.Minute {
		p.AddAt("commit_interval", "must be between 1ms and 1m")
	}
	if c.DeadLetter != "" && !topicRE.MatchString(c.DeadLetter) {
		p.AddAt("dead_letter", "%q is not a Kafka topic name", c.DeadLetter)
	}
	for _, t := range c.Topics {
		if t == c.DeadLetter {
			p.AddAt("dead_letter", "must not be one of the topics read")
		}
	}
}

// TargetConfig configures a kafka target.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Topic receives the events; a template: "events.{type}" takes the
	// event's type. Required.
	Topic string `json:"topic"`
	// Key is the record key, a template. Default "{partitionkey}": the
	// partitionkey extension (the binding's key mapper); an event without
	// the attributes a key names gets a null key.
	Key *string `json:"key,omitempty"`
	// Mode is binary (default) or structured.
	Mode Mode `json:"mode,omitempty"`
	// Compression of record batches: none (default), gzip, snappy, lz4, zstd.
	Compression string `json:"compression,omitempty"`
	// MaxMessageBytes is the largest record batch sent; match the topic's
	// max.message.bytes. Default 1048588 (Kafka's default).
	MaxMessageBytes spec.ByteSize `json:"max_message_bytes,omitempty"`
	// Timeout bounds the delivery of one record, retries included.
	// Default 30s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// Batch, when set, produces the records of concurrent deliveries
	// together and waits for them at once (max_events, max_bytes,
	// linger); each event still has its own outcome.
	Batch *batch.Spec `json:"batch,omitempty"`
	// MaxInFlight is the most deliveries to this target in flight at
	// once: every route to it gets at least this many workers (its
	// rule's delivery.concurrency is raised to it). Each delivery still
	// waits for the brokers' acknowledgement; the client puts the records
	// waiting meanwhile into its next produce requests, so the window,
	// not the round trip, bounds the rate. Default 256.
	MaxInFlight int `json:"max_in_flight,omitempty"`

	topic, key attrtemplate.Template
}

// DefaultMaxInFlight is the default max_in_flight of the kafka target.
const DefaultMaxInFlight = 256

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	c.defaults()
	if c.Key == nil {
		k := "{partitionkey}"
		c.Key = &k
	}
	if c.Mode == "" {
		c.Mode = ModeBinary
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 1048588
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(30 * time.Second)
	}
	if c.Batch != nil {
		c.Batch.Defaults()
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.validate(p)
	var err error
	switch {
	case c.Topic == "":
		p.AddAt("topic", "required")
	default:
		if c.topic, err = attrtemplate.Parse(c.Topic); err != nil {
			p.AddAt("topic", "%v", err)
		} else if s, static := c.topic.Static(); static && !topicRE.MatchString(s) {
			p.AddAt("topic", "%q is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)", s)
		}
	}
	if c.key, err = attrtemplate.Parse(*c.Key); err != nil {
		p.AddAt("key", "%v", err)
	}
	if c.Mode != ModeBinary && c.Mode != ModeStructured {
		p.AddAt("mode", "must be binary or structured, not %q", c.Mode)
	}
	if c.Batch != nil {
		c.Batch.Validate(p.At("batch"))
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 4096 {
		p.AddAt("max_in_flight", "must be between 1 and 4096")
	}
	if _, err := compression(c.Compression); err != nil {
		p.AddAt("compression", "%v", err)
	}
	if c.MaxMessageBytes < 1024 || c.MaxMessageBytes > 1<<30 {
		p.AddAt("max_message_bytes", "must be between 1KiB and 1GiB")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
}

func compression(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("must be none, gzip, snappy, lz4 or zstd, not %q", name)
}

var (
	_ connector.Config = (*SourceConfig)(nil)
	_ connector.Config = (*TargetConfig)(nil)
)

// OutboundAddresses implements connector.Outbound: the seed brokers.
func (c *ClientConfig) OutboundAddresses() []connector.Address {
	var out []connector.Address
	for i, b := range c.Brokers {
		out = append(out, connector.Address{Field: fmt.Sprintf("brokers[%d]", i), Value: b})
	}
	return out
}
