package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// Errors of the transport.
var (
	// ErrNotConnected is returned by Send and Subscribe before Connect
	// or after Close.
	ErrNotConnected = errors.New("natsjs: not connected")
	// ErrNotSubscribed is returned by Receive before Subscribe.
	ErrNotSubscribed = errors.New("natsjs: not subscribed")
	// ErrNoTarget is returned by Send for an event the layout has no
	// subject for (a source's spec without a cluster, an agent's status
	// without a source).
	ErrNoTarget = errors.New("natsjs: no subject for the event")
)

// Transport is a cloudsync transport over NATS for one role (a source or
// an agent). Its methods are safe for concurrent use. Connect may be
// called again after an error on ErrorChan: it replaces the connection,
// and a Receive on the old one returns.
type Transport struct {
	opts    Options
	layout  layout
	source  bool
	id      string // source ID or agent ID
	cluster string // the agent's cluster
	errs    chan error

	mu     sync.Mutex
	sess   *session
	closed bool
}

// session is one connection and what was subscribed on it.
type session struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	msgs chan delivery
	done chan struct{} // closed when the connection ends
	once sync.Once

	subs       []*nats.Subscription
	ccs        []jetstream.ConsumeContext
	subscribed bool
}

type delivery struct {
	msg  *nats.Msg
	jmsg jetstream.Msg
}

func (s *session) end() { s.once.Do(func() { close(s.done) }) }

// NewSource returns the transport of the source sourceID.
func NewSource(sourceID string, o Options) (*Transport, error) {
	if sourceID == "" {
		return nil, fmt.Errorf("natsjs: source ID: %w", ErrEmptyToken)
	}
	return newTransport(true, sourceID, "", o)
}

// NewAgent returns the transport of the agent agentID on cluster
// clusterName.
func NewAgent(agentID, clusterName string, o Options) (*Transport, error) {
	if agentID == "" {
		return nil, fmt.Errorf("natsjs: agent ID: %w", ErrEmptyToken)
	}
	if clusterName == "" {
		return nil, fmt.Errorf("natsjs: cluster name: %w", ErrEmptyToken)
	}
	return newTransport(false, agentID, clusterName, o)
}

func newTransport(source bool, id, cluster string, o Options) (*Transport, error) {
	if o.JetStream != nil {
		js := *o.JetStream
		o.JetStream = &js
	}
	if err := o.defaults(); err != nil {
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	return &Transport{opts: o, layout: layout{o.Prefix}, source: source, id: id, cluster: cluster, errs: make(chan error, 1)}, nil
}

// Connect dials the server (and, with JetStream, finds or creates the
// stream). A previous connection is closed first; Connect after Close
// opens the transport again (the cloudsync clients reconnect so).
func (t *Transport) Connect(ctx context.Context) error {
	t.mu.Lock()
	t.closed = false
	old := t.sess
	t.sess = nil
	t.mu.Unlock()
	if old != nil {
		old.nc.Close()
		old.end()
	}

	s := &session{msgs: make(chan delivery, t.opts.Buffer), done: make(chan struct{})}
	opts := append([]nats.Option{nats.Name("cloudsync " + t.role())}, t.opts.NATSOptions...)
	opts = append(opts,
		nats.NoReconnect(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				err = nats.ErrConnectionClosed
			}
			t.fail(s, fmt.Errorf("natsjs: connection lost: %w", err))
		}),
		nats.ClosedHandler(func(*nats.Conn) { s.end() }),
	)
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(timeUntil(d)))
	}
	nc, err := nats.Connect(t.opts.URL, opts...)
	if err != nil {
		return fmt.Errorf("natsjs: connect %s: %w", t.opts.URL, err)
	}
	s.nc = nc
	if jo := t.opts.JetStream; jo != nil {
		js, err := jetstream.New(nc)
		if err == nil {
			err = t.ensureStream(ctx, js)
		}
		if err != nil {
			nc.Close()
			return fmt.Errorf("natsjs: jetstream: %w", err)
		}
		s.js = js
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.sess != nil {
		// Closed, or another Connect won while this one dialled.
		nc.Close()
		return ErrNotConnected
	}
	t.sess = s
	return nil
}

func (t *Transport) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	jo := t.opts.JetStream
	_, err := js.Stream(ctx, jo.Stream)
	if err == nil || !errors.Is(err, jetstream.ErrStreamNotFound) || jo.NoCreate {
		return err
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:     jo.Stream,
		Subjects: []string{t.layout.all()},
		MaxAge:   jo.MaxAge,
		Replicas: jo.Replicas,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil // another side created it first
	}
	return err
}

// fail reports err on ErrorChan if s is still the current session.
func (t *Transport) fail(s *session, err error) {
	t.mu.Lock()
	current := t.sess == s && !t.closed
	t.mu.Unlock()
	if !current {
		return
	}
	select {
	case t.errs <- err:
	default: // one pending error is enough to make the client reconnect
	}
}

func (t *Transport) role() string {
	if t.source {
		return "source " + t.id
	}
	return "agent " + t.id
}

func (t *Transport) current() (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sess == nil || t.closed {
		return nil, ErrNotConnected
	}
	return t.sess, nil
}

// Send publishes evt to the subject its role, type and clustername /
// originalsource extensions select. With JetStream it waits for the
// stream's acknowledgement (the event id is the deduplication id).
func (t *Transport) Send(ctx context.Context, evt cloudevents.Event) error {
	s, err := t.current()
	if err != nil {
		return err
	}
	subj, err := t.subjectFor(&evt)
	if err != nil {
		return err
	}
	m := encode(subj, &evt)
	if s.js != nil {
		if _, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgID(evt.ID())); err != nil {
			return fmt.Errorf("natsjs: publish to %s: %w", subj, err)
		}
		return nil
	}
	if err := s.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("natsjs: publish to %s: %w", subj, err)
	}
	return nil
}

// SubjectFor returns the subject Send publishes evt to.
func (t *Transport) SubjectFor(evt cloudevents.Event) (string, error) { return t.subjectFor(&evt) }

func (t *Transport) subjectFor(evt *cloudevents.Event) (string, error) {
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

// Subjects returns the subject filters Subscribe listens on.
func (t *Transport) Subjects() []string {
	if t.source {
		return []string{
			t.layout.agentEvents(EscapeToken(t.id), "*"),
			t.layout.agentBroadcast("*"),
		}
	}
	src := "*"
	if t.opts.SourceID != "" {
		src = EscapeToken(t.opts.SourceID)
	}
	return []string{
		t.layout.sourceEvents(src, EscapeToken(t.cluster)),
		t.layout.sourceBroadcast(src),
	}
}

// Subscribe starts listening on the role's subjects (a queue group or a
// JetStream consumer as configured). Events wait for Receive.
func (t *Transport) Subscribe(ctx context.Context) error {
	s, err := t.current()
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.subscribed {
		return nil
	}
	push := func(d delivery) {
		select {
		case s.msgs <- d:
		case <-s.done:
		}
	}
	if s.js != nil {
		// One consumer per subject: servers before 2.10 have no
		// consumers with several filter subjects.
		for i, subj := range t.Subjects() {
			cc, err := t.consume(ctx, s, subj, consumerSuffix[i], push)
			if err != nil {
				for _, cc := range s.ccs {
					cc.Stop()
				}
				s.ccs = nil
				return err
			}
			s.ccs = append(s.ccs, cc)
		}
	} else {
		for _, subj := range t.Subjects() {
			sub, err := s.nc.QueueSubscribe(subj, t.opts.QueueGroup, func(m *nats.Msg) { push(delivery{msg: m}) })
			if err != nil {
				for _, sub := range s.subs {
					_ = sub.Unsubscribe()
				}
				s.subs = nil
				return fmt.Errorf("natsjs: subscribe %s: %w", subj, err)
			}
			s.subs = append(s.subs, sub)
		}
		// The subscriptions are in place once the server has them.
		fctx := ctx
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			fctx, cancel = context.WithTimeout(ctx, flushTimeout)
			defer cancel()
		}
		if err := s.nc.FlushWithContext(fctx); err != nil {
			return fmt.Errorf("natsjs: subscribe: %w", err)
		}
	}
	s.subscribed = true
	return nil
}

// consumerSuffix names the durable consumer of each subject of Subjects:
// the events, then the broadcasts.
var consumerSuffix = []string{"_events", "_broadcast"}

func (t *Transport) consume(ctx context.Context, s *session, subject, suffix string, push func(delivery)) (jetstream.ConsumeContext, error) {
	jo := t.opts.JetStream
	cfg := jetstream.ConsumerConfig{
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       jo.AckWait,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	}
	if jo.Durable != "" {
		cfg.Durable = jo.Durable + suffix
		// Used only when the consumer is created: a durable consumer
		// starts with what the stream holds for its subjects.
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	cons, err := t.createConsumer(ctx, s.js, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsjs: consumer on %s: %w", jo.Stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { push(delivery{jmsg: m}) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				t.fail(s, fmt.Errorf("natsjs: consumer: %w", err))
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("natsjs: consume from %s: %w", jo.Stream, err)
	}
	return cc, nil
}

func (t *Transport) createConsumer(ctx context.Context, js jetstream.JetStream, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	stream := t.opts.JetStream.Stream
	if cfg.Durable != "" {
		// An existing durable consumer keeps its position; only its
		// subjects and ack wait follow the options.
		if c, err := js.Consumer(ctx, stream, cfg.Durable); err == nil {
			info := c.CachedInfo().Config
			if info.FilterSubject == cfg.FilterSubject && info.AckWait == cfg.AckWait {
				return c, nil
			}
			info.FilterSubject = cfg.FilterSubject
			info.AckWait = cfg.AckWait
			return js.UpdateConsumer(ctx, stream, info)
		}
	}
	return js.CreateOrUpdateConsumer(ctx, stream, cfg)
}

// Receive calls fn for each event received on the current connection, one
// at a time, until ctx is done, the connection ends (an error is then on
// ErrorChan) or the transport is closed; it returns nil in those cases.
// A JetStream event is acknowledged after fn returns. Messages that are
// not CloudEvents are dropped (acknowledged as terminated in JetStream).
func (t *Transport) Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error {
	s, err := t.current()
	if err != nil {
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		if closed {
			return nil // closed before this Receive started
		}
		return err
	}
	t.mu.Lock()
	subscribed := s.subscribed
	t.mu.Unlock()
	if !subscribed {
		return ErrNotSubscribed
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case d := <-s.msgs:
			if d.jmsg != nil {
				evt, err := decode(d.jmsg.Headers(), d.jmsg.Data())
				if err != nil {
					_ = d.jmsg.Term()
					continue
				}
				fn(ctx, *evt)
				_ = d.jmsg.Ack()
				continue
			}
			evt, err := decode(d.msg.Header, d.msg.Data)
			if err != nil {
				continue
			}
			fn(ctx, *evt)
		}
	}
}

// ErrorChan reports connection losses; after one the client calls Connect
// and Subscribe again.
func (t *Transport) ErrorChan() <-chan error { return t.errs }

// Close closes the connection; Send, Subscribe and Receive then return
// ErrNotConnected (a running Receive returns nil).
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	s := t.sess
	t.sess = nil
	t.closed = true
	t.mu.Unlock()
	if s == nil {
		return nil
	}
	for _, cc := range s.ccs {
		cc.Stop()
	}
	s.nc.Close()
	s.end()
	return nil
}

// Interface guard.
var _ cloudsync.Transport = (*Transport)(nil)
