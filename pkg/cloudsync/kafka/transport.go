package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// Errors of the transport.
var (
	// ErrNotConnected is returned by Send and Subscribe before Connect
	// or after Close.
	ErrNotConnected = errors.New("kafka: not connected")
	// ErrNotSubscribed is returned by Receive before Subscribe.
	ErrNotSubscribed = errors.New("kafka: not subscribed")
	// ErrNoTarget is returned by Send for an event the layout has no
	// topic for (a source's spec without a cluster, an agent's status
	// without a source, a name over Kafka's 249 characters).
	ErrNoTarget = errors.New("kafka: no topic for the event")
)

// Transport is a cloudsync transport over Kafka for one role (a source or
// an agent). Its methods are safe for concurrent use. Connect after Close
// or after an error on ErrorChan opens it again.
type Transport struct {
	opts    Options
	layout  layout
	source  bool
	id      string
	cluster string
	errs    chan error

	mu      sync.Mutex
	closed  bool // by Close, until the next Connect
	prod    *kgo.Client
	cons    *kgo.Client
	created map[string]bool
}

// NewSource returns the transport of the source sourceID.
func NewSource(sourceID string, o Options) (*Transport, error) {
	if sourceID == "" {
		return nil, fmt.Errorf("kafka: source ID: %w", ErrEmptyToken)
	}
	return newTransport(true, sourceID, "", o)
}

// NewAgent returns the transport of the agent agentID on cluster
// clusterName.
func NewAgent(agentID, clusterName string, o Options) (*Transport, error) {
	if agentID == "" {
		return nil, fmt.Errorf("kafka: agent ID: %w", ErrEmptyToken)
	}
	if clusterName == "" {
		return nil, fmt.Errorf("kafka: cluster name: %w", ErrEmptyToken)
	}
	return newTransport(false, agentID, clusterName, o)
}

func newTransport(source bool, id, cluster string, o Options) (*Transport, error) {
	if err := o.defaults(source, id); err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &Transport{opts: o, layout: layout{o.Prefix}, source: source, id: id, cluster: cluster,
		errs: make(chan error, 1), created: map[string]bool{}}, nil
}

// Connect creates the producing client and checks a broker answers. A
// previous connection is closed first.
func (t *Transport) Connect(ctx context.Context) error {
	t.closeClients(ctx)
	opts := append([]kgo.Opt{}, t.opts.ClientOptions...)
	opts = append(opts,
		kgo.SeedBrokers(t.opts.Brokers...),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: client: %w", err)
	}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return fmt.Errorf("kafka: connect %s: %w", strings.Join(t.opts.Brokers, ","), err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = false
	if t.prod != nil { // another Connect won
		cl.Close()
		return nil
	}
	t.prod = cl
	return nil
}

// TopicFor returns the topic Send produces evt to.
func (t *Transport) TopicFor(evt cloudevents.Event) (string, error) { return t.topicFor(&evt) }

func (t *Transport) topicFor(evt *cloudevents.Event) (string, error) {
	topic, err := t.route(evt)
	if err == nil && len(topic) > maxTopicLen {
		err = fmt.Errorf("%w: topic %q is longer than %d characters", ErrNoTarget, topic, maxTopicLen)
	}
	return topic, err
}

func (t *Transport) route(evt *cloudevents.Event) (string, error) {
	resync := strings.HasSuffix(evt.Type(), ".resync_request")
	if t.source {
		src := EscapeToken(t.id)
		cluster := extString(evt, "clustername")
		if cluster == "" {
			if resync {
				return t.layout.sourceBroadcast(src), nil
			}
			return "", fmt.Errorf("%w: %s from a source has no clustername", ErrNoTarget, evt.Type())
		}
		return t.layout.sourceEvents(src, EscapeToken(cluster)), nil
	}
	cluster := EscapeToken(t.cluster)
	orig := extString(evt, "originalsource")
	if orig == "" {
		if resync {
			return t.layout.agentBroadcast(cluster), nil
		}
		orig = t.opts.SourceID
	}
	if orig == "" {
		return "", fmt.Errorf("%w: %s from an agent has no originalsource and no SourceID is set", ErrNoTarget, evt.Type())
	}
	return t.layout.agentEvents(EscapeToken(orig), cluster), nil
}

func extString(evt *cloudevents.Event, name string) string {
	v, ok := evt.Extensions()[name]
	if !ok {
		return ""
	}
	s, err := types.Format(v)
	if err != nil {
		return ""
	}
	return s
}

// Patterns returns the regular expressions of the topics Subscribe
// consumes.
func (t *Transport) Patterns() []string {
	if t.source {
		return []string{
			pattern(t.layout.agentEvents(EscapeToken(t.id), anyToken)),
			pattern(t.layout.agentBroadcast(anyToken)),
		}
	}
	src := anyToken
	if t.opts.SourceID != "" {
		src = EscapeToken(t.opts.SourceID)
	}
	return []string{
		pattern(t.layout.sourceEvents(src, EscapeToken(t.cluster))),
		pattern(t.layout.sourceBroadcast(src)),
	}
}

// Send produces evt to its topic (created first when missing, unless
// NoCreateTopics), keyed by its resourceid (else its clustername), and
// waits for the brokers' acknowledgement.
func (t *Transport) Send(ctx context.Context, evt cloudevents.Event) error {
	t.mu.Lock()
	cl := t.prod
	t.mu.Unlock()
	if cl == nil {
		return ErrNotConnected
	}
	topic, err := t.topicFor(&evt)
	if err != nil {
		return err
	}
	if err := t.ensureTopic(ctx, cl, topic); err != nil {
		return err
	}
	r := &kgo.Record{Topic: topic}
	if key := extString(&evt, "resourceid"); key != "" {
		r.Key = []byte(key)
	} else if key := extString(&evt, "clustername"); key != "" {
		r.Key = []byte(key)
	}
	encode(&evt, r)
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("kafka: produce to %s: %w", topic, err)
	}
	return nil
}

func (t *Transport) ensureTopic(ctx context.Context, cl *kgo.Client, topic string) error {
	if t.opts.NoCreateTopics {
		return nil
	}
	t.mu.Lock()
	done := t.created[topic]
	t.mu.Unlock()
	if done {
		return nil
	}
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, t.opts.Partitions, t.opts.ReplicationFactor, nil, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		// Not allowed to create: the topic may exist or be created
		// automatically; the produce says.
	default:
		return fmt.Errorf("kafka: create topic %s: %w", topic, err)
	}
	t.mu.Lock()
	t.created[topic] = true
	t.mu.Unlock()
	return nil
}

// Subscribe joins the consumer group on the role's topic patterns.
// Events wait for Receive.
func (t *Transport) Subscribe(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prod == nil {
		return ErrNotConnected
	}
	if t.cons != nil {
		return nil
	}
	reset := kgo.NewOffset().AtStart()
	if t.opts.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := append([]kgo.Opt{}, t.opts.ClientOptions...)
	opts = append(opts,
		kgo.SeedBrokers(t.opts.Brokers...),
		kgo.ConsumerGroup(t.opts.Group),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(t.Patterns()...),
		kgo.ConsumeResetOffset(reset),
		kgo.AutoCommitMarks(),
		kgo.MetadataMaxAge(t.opts.DiscoveryInterval),
		kgo.MetadataMinAge(min(t.opts.DiscoveryInterval, kgoDefaultMinAge)),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			_ = cl.CommitMarkedOffsets(ctx)
		}),
	)
	hook := &connectHook{t: t}
	opts = append(opts, kgo.WithHooks(hook))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: consumer: %w", err)
	}
	hook.cl.Store(cl)
	t.cons = cl
	return nil
}

// connectHook reports a failed connection to a broker on ErrorChan. Kafka
// keeps the events and the group's offsets over a broker outage, but what
// a side changed meanwhile without publishing (its Lister's view) is
// repaired only by a resync, which the client runs after it reconnects.
type connectHook struct {
	t  *Transport
	cl atomic.Pointer[kgo.Client]
}

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (h *connectHook) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		return
	}
	if cl := h.cl.Load(); cl != nil {
		h.t.fail(cl, fmt.Errorf("kafka: connect to broker %s:%d: %w", meta.Host, meta.Port, err))
	}
}

// Receive calls fn for each event, one at a time, until ctx is done, the
// transport is closed, or the consumer fails (the error is then on
// ErrorChan); it returns nil in those cases. An event's offset is
// committed after fn returns. Records that are not CloudEvents are
// skipped.
func (t *Transport) Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error {
	t.mu.Lock()
	cl := t.cons
	connected, closed := t.prod != nil, t.closed
	t.mu.Unlock()
	if closed {
		return nil // closed before this Receive started
	}
	if !connected {
		return ErrNotConnected
	}
	if cl == nil {
		return ErrNotSubscribed
	}
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, kgo.ErrClientClosed) {
				return nil
			}
			t.fail(cl, fmt.Errorf("kafka: fetch %s[%d]: %w", fe.Topic, fe.Partition, fe.Err))
			return nil
		}
		var stop bool
		fetches.EachRecord(func(r *kgo.Record) {
			if stop {
				return
			}
			if evt, err := decode(r); err == nil {
				fn(ctx, *evt)
			}
			if ctx.Err() != nil {
				// fn may not have finished its work: leave the
				// record uncommitted, it comes again.
				stop = true
				return
			}
			cl.MarkCommitRecords(r)
		})
		if stop {
			return nil
		}
	}
}

// fail reports err on ErrorChan if cl is still the current consumer.
func (t *Transport) fail(cl *kgo.Client, err error) {
	t.mu.Lock()
	current := t.cons == cl
	t.mu.Unlock()
	if !current {
		return
	}
	select {
	case t.errs <- err:
	default:
	}
}

// ErrorChan reports consumer failures; after one the client calls
// Connect and Subscribe again.
func (t *Transport) ErrorChan() <-chan error { return t.errs }

// Close commits the handled offsets, leaves the group and closes the
// clients.
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.closeClients(ctx)
	return nil
}

func (t *Transport) closeClients(ctx context.Context) {
	t.mu.Lock()
	prod, cons := t.prod, t.cons
	t.prod, t.cons = nil, nil
	t.mu.Unlock()
	if cons != nil {
		_ = cons.CommitMarkedOffsets(ctx)
		cons.Close()
	}
	if prod != nil {
		prod.Close()
	}
}

// Interface guard.
var _ cloudsync.Transport = (*Transport)(nil)
