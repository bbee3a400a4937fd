// Package natsjs is a cloudsync transport over NATS: core NATS subjects
// (at-most-once; the automatic resync after every reconnect repairs what a
// cut lost) or JetStream (a stream keeps the events; a durable consumer
// gets what was published while its agent or source was away).
//
// Events travel in the CloudEvents NATS binding's binary mode (attributes
// as ce- headers, the data as the payload), the mapping eventbridge's NATS
// connectors read and write, so a bridge rule can consume and produce
// them. Subjects mirror the protocol's MQTT topic layout (see layout in
// subjects.go and docs/cloudsync.md).
package natsjs

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Options configures a transport. The zero value is core NATS at
// nats.DefaultURL with the subject prefix DefaultPrefix.
type Options struct {
	// URL is the server URL, or a comma-separated list (default
	// nats://127.0.0.1:4222).
	URL string
	// NATSOptions are extra connection options: credentials, TLS, a
	// name. The transport turns off the client's own reconnects
	// (nats.NoReconnect): a cut is reported on ErrorChan and the cloudsync
	// client reconnects, resubscribes and resyncs.
	NATSOptions []nats.Option
	// Prefix is the first token(s) of every subject (default
	// "cloudsync"). Sources and agents that talk must share it.
	Prefix string
	// SourceID, for an agent, restricts its subscription to the events of
	// that source and is where a status without an originalsource goes.
	// Empty: every source's events (the "+" of the MQTT layout). Ignored
	// for a source (its own ID is used).
	SourceID string
	// QueueGroup, for core NATS, subscribes in that queue group: the
	// replicas of a source that share a group share the status events
	// between them, as MQTT's $share/<group>/. With JetStream, replicas
	// share the work by using the same JetStream.Durable name.
	QueueGroup string
	// JetStream, when set, publishes to and consumes from a stream.
	JetStream *JetStreamOptions
	// Buffer is the number of received messages held for Receive (default
	// 256).
	Buffer int
}

// JetStreamOptions configures the JetStream mode.
type JetStreamOptions struct {
	// Stream is the stream name (default "CLOUDSYNC_" and the prefix in
	// upper case, "." as "_"). Its subjects must include "<prefix>.>".
	Stream string
	// NoCreate: do not create the stream when it is missing (an
	// administrator manages it); Connect fails instead.
	NoCreate bool
	// MaxAge limits how long the created stream keeps events (default 0:
	// no limit).
	MaxAge time.Duration
	// Replicas of the created stream (default 1).
	Replicas int
	// Durable names the durable consumers (Durable+"_events" and
	// Durable+"_broadcast", one per subscribed subject, which also works
	// with servers before 2.10): their position survives restarts, so
	// events published while the side was away are delivered when it
	// comes back; replicas using the same name share the events. A
	// source and its agents, and agents of different clusters, need
	// different names (the agent ID is a good one). Empty:
	// an ephemeral consumer that delivers only events published after it
	// subscribed (the resync catches up).
	Durable string
	// AckWait is how long a delivered event may stay unacknowledged
	// before it is sent again (default 30 s). The transport acknowledges
	// after the handler returns.
	AckWait time.Duration
}

func (o *Options) defaults() error {
	if o.URL == "" {
		o.URL = nats.DefaultURL
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := validPrefix(o.Prefix); err != nil {
		return err
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	if js := o.JetStream; js != nil {
		if js.Stream == "" {
			js.Stream = "CLOUDSYNC_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(o.Prefix))
		}
		if strings.ContainsAny(js.Stream, ".*> \t/\\") {
			return fmt.Errorf("jetstream stream name %q: no '.', '*', '>', '/', '\\' or whitespace", js.Stream)
		}
		if js.Durable != "" && strings.ContainsAny(js.Durable, ".*> \t/\\") {
			return fmt.Errorf("jetstream durable name %q: no '.', '*', '>', '/', '\\' or whitespace", js.Durable)
		}
		if js.AckWait <= 0 {
			js.AckWait = 30 * time.Second
		}
		if js.Replicas <= 0 {
			js.Replicas = 1
		}
	}
	return nil
}
