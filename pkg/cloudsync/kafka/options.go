// Package kafka is a cloudsync transport over Apache Kafka (franz-go).
// Topics follow the protocol's MQTT layout, one topic per source, cluster
// and direction (see topics.go and docs/cloudsync.md); events travel in
// the CloudEvents Kafka binding's binary mode (ce_ headers, content-type,
// the data as the value), the mapping eventbridge's Kafka connector reads
// and writes. Consumption is in a consumer group that commits an event's
// offset after the handler returns: a side that comes back continues
// where it stopped, and replicas of a source that share the group share
// the status events (MQTT's $share/<group>/).
package kafka

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configures a transport.
type Options struct {
	// Brokers are the seed brokers, host:port (default 127.0.0.1:9092).
	Brokers []string
	// ClientOptions are extra franz-go options: SASL, TLS, a dialer, a
	// client ID. The transport sets the seeds, the consumer group and
	// the topics itself.
	ClientOptions []kgo.Opt
	// Prefix is the first part(s) of every topic name (default
	// "cloudsync"); letters, digits, '-' and '.' between parts.
	Prefix string
	// SourceID, for an agent, restricts its subscription to that source's
	// topics and is where a status without an originalsource goes. Empty:
	// every source (the "+" of the MQTT layout). Ignored for a source.
	SourceID string
	// Group is the consumer group. Default: "<prefix>.source.<sourceID>"
	// for a source, so its replicas share the status events, and
	// "<prefix>.agent.<agentID>" for an agent. Give a source replica a
	// group of its own to have it get every status.
	Group string
	// StartAtEnd makes a new group start at the end of the topics that
	// exist when it first subscribes (the resync catches up). Default: at
	// the start, which also applies to topics created later (a new
	// cluster's first events are never skipped).
	StartAtEnd bool
	// NoCreateTopics: do not create topics before the first send to them
	// (an administrator creates them, or the brokers create topics
	// automatically).
	NoCreateTopics bool
	// Partitions and ReplicationFactor of created topics (defaults 1,
	// and the broker default). Records are keyed by resource id, so one
	// resource's events stay in order on any number of partitions.
	Partitions        int32
	ReplicationFactor int16
	// DiscoveryInterval is how often the consumer looks for new topics
	// matching its subscription, a new cluster or source (default 5 s).
	DiscoveryInterval time.Duration
}

func (o *Options) defaults(source bool, id string) error {
	if len(o.Brokers) == 0 {
		o.Brokers = []string{"127.0.0.1:9092"}
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := validPrefix(o.Prefix); err != nil {
		return err
	}
	if o.Group == "" {
		if source {
			o.Group = o.Prefix + ".source." + EscapeToken(id)
		} else {
			o.Group = o.Prefix + ".agent." + EscapeToken(id)
		}
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = -1
	}
	if o.DiscoveryInterval <= 0 {
		o.DiscoveryInterval = 5 * time.Second
	}
	if o.DiscoveryInterval < 100*time.Millisecond {
		return fmt.Errorf("discovery interval %s: at least 100ms", o.DiscoveryInterval)
	}
	return nil
}

// kgoDefaultMinAge is franz-go's default MetadataMinAge.
const kgoDefaultMinAge = 5 * time.Second
