package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
)

// Source reads CloudEvents from Kafka topics in a consumer group.
//
// Records are polled in batches; the events of a batch are stored with one
// Ingest call, and only then are the batch's offsets committed (in the
// background: see committer). The next batch is polled and decoded while
// one is stored, and stored once it is through. When Ingest fails, the
// partitions are rewound to the first record of the batch and read again
// after a backoff, so nothing after a failed record is ever committed (no
// gaps). Order within a partition is kept.
type Source struct {
	intake.Base
	cfg *SourceConfig
	cl  *kgo.Client
	// commits commits the offsets of what was stored.
	commits *committer
	// inflight is the last batch handed to the bus (stored or not).
	inflight atomic.Pointer[storing]
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	if deps.Metrics == nil {
		return nil, fmt.Errorf("source %s: no metrics", name)
	}
	s := &Source{cfg: c.(*SourceConfig)}
	s.Init(name, "kafka", deps)
	return s, nil
}

// Start creates the client and returns; connecting, joining the group and
// consuming happen in the background, retried for as long as the source
// runs, so a cluster that is down does not fail Start.
func (s *Source) Start(startCtx context.Context) error {
	s.Conn.Starting()
	opts, err := s.cfg.opts(s.Deps.Guard)
	if err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.Name, err)
	}
	commits := newCommitter(s.Log, s.cfg.CommitInterval.D())
	group := s.cfg.Group
	if group == "" {
		group = "eventbridge-" + s.Name
	}
	start := kgo.NewOffset().AtStart()
	if s.cfg.Start == "latest" {
		start = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(s.cfg.Topics...),
		kgo.ConsumeResetOffset(start),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		// Partitions leave with what was stored committed.
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, _ map[string][]int32) {
			s.waitStoring()
			commits.flush(ctx)
		}),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.RequiredAcks(kgo.AllISRAcks()), // for the dead-letter topic
		kgo.WithLogger(logger{s.Log}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.Name, err)
	}
	ctx := s.Loops.Start()
	s.cl = cl
	commits.cl = cl
	s.commits = commits
	s.SetDetail("group", group)
	s.Loops.Go(func() { probe(ctx, cl, s.Conn) })
	s.Loops.Go(func() { s.consume(ctx) })
	s.Conn.WaitUp(startCtx, 5*time.Second)
	return nil
}

// Stop stops consuming, waits for the batch in hand (its offsets are
// committed if it was stored) and leaves the group.
func (s *Source) Stop(ctx context.Context) error {
	s.Conn.Stopping()
	if s.Loops.Started() {
		s.Loops.Stop(ctx, s.cl.Close)
		s.cl = nil
	}
	s.Conn.Stopped(nil)
	return nil
}

// storing is a batch of records being stored in the background: err is
// set once done is closed, and the batch's offsets were handed to the
// committer if err is nil.
type storing struct {
	recs []*kgo.Record
	done chan struct{}
	err  error
	// poll is the context of the polls made meanwhile: it ends with the
	// store, so that a poll that finds nothing does not hold up the
	// outcome (a failed batch is read again at once).
	poll context.Context
}

// wait waits for the batch to be stored or to fail.
func (b *storing) wait() error {
	<-b.done
	return b.err
}

func (s *Source) consume(ctx context.Context) {
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	// The committer ends after this loop: it commits what was stored last
	// before the client closes.
	commits := s.commits
	cctx, stopCommits := context.WithCancel(context.WithoutCancel(ctx))
	committed := make(chan struct{})
	go func() { defer close(committed); commits.run(cctx) }()
	defer func() { stopCommits(); <-committed }()
	// The loop is a pipeline: while one batch is stored (in the
	// background), the next is polled and decoded. Batches are stored one
	// at a time, in the order polled, so order within a partition is
	// kept: the next store starts only once the one before is through, and
	// when one fails, the partitions are rewound to its first records and
	// the batch polled meanwhile is dropped (it is read again).
	var prev *storing
	defer func() {
		if prev != nil {
			_ = prev.wait() // its offsets go in the committer's last commit
		}
	}()
	var bo conntrack.Backoff
	lastErr := ""
	for ctx.Err() == nil {
		pctx := ctx
		if prev != nil {
			pctx = prev.poll
		}
		fs := s.cl.PollRecords(pctx, s.cfg.MaxPollRecords)
		if fs.IsClientClosed() {
			return
		}
		// Fetch errors (a missing topic, a leader moving) are retried by the
		// client; whether the cluster is reachable is the probe's to say.
		// Log each new one once, not on every poll.
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) && err.Error() != lastErr {
				lastErr = err.Error()
				s.Log.Warn("fetch failed", "topic", topic, "partition", p, "err", err)
			}
		})
		recs := fs.Records()
		var b polled
		if len(recs) > 0 {
			s.Conn.Up()
			b = s.decode(recs)
		}
		if prev != nil {
			err := prev.wait()
			failed := prev.recs
			prev = nil
			if err != nil {
				// Read again from the failed batch's first records; what
				// was polled since follows them.
				s.rewind(append(failed, recs...))
				s.cl.AllowRebalance()
				if ctx.Err() == nil && !errors.Is(err, intake.ErrNotStored) { // Store logs its own failures, once per outage
					s.Log.Warn("records not stored; reading them again", "records", len(failed), "err", err)
				}
				conntrack.Sleep(ctx, bo.Next())
				continue
			}
			bo.Reset()
		}
		if len(recs) == 0 {
			s.cl.AllowRebalance()
			continue
		}
		poll, stored := context.WithCancel(ctx)
		prev = &storing{recs: recs, done: make(chan struct{}), poll: poll}
		s.inflight.Store(prev)
		go func(st *storing) {
			defer stored()
			defer close(st.done)
			st.err = s.store(ctx, b)
			if st.err == nil {
				// Stored: their offsets may be committed. Until the commit
				// is through, a restart reads them again (duplicates, which
				// the bus drops by (source, id)).
				commits.add(st.recs)
			}
		}(prev)
		s.cl.AllowRebalance()
	}
}

// polled is records turned into events: the valid ones, and copies
// of the invalid ones for the dead-letter topic.
type polled struct {
	events []*ce.Event
	dead   []*kgo.Record
}

// decode turns records into events (wrapping, or rejecting the invalid
// ones: dead-lettered if there is a dead-letter topic).
func (s *Source) decode(recs []*kgo.Record) polled {
	b := polled{events: make([]*ce.Event, 0, len(recs))}
	for _, r := range recs {
		e, err := decode(r)
		if errors.Is(err, errNotCloudEvent) && s.cfg.Wrap != nil {
			e, err = s.cfg.Wrap.Event(r.Value, contentType(r), r.Topic), nil
		}
		if err == nil {
			err = s.cfg.CheckExtensions(e)
		}
		if err == nil {
			keyToPartitionKey(e, r, s.cfg.CheckExtensions)
		}
		switch {
		case err == nil:
			b.events = append(b.events, e)
		default:
			s.Invalid(err)
			s.Log.Warn("record is not a valid CloudEvent", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err, "dead_letter", s.cfg.DeadLetter)
			if s.cfg.DeadLetter != "" {
				b.dead = append(b.dead, deadLetter(r, s.cfg.DeadLetter, err))
			}
		}
	}
	s.Received(len(recs))
	return b
}

// store produces the dead letters of b, then stores its events with one
// Ingest.
func (s *Source) store(ctx context.Context, b polled) error {
	if len(b.dead) > 0 {
		if err := s.cl.ProduceSync(ctx, b.dead...).FirstErr(); err != nil {
			return fmt.Errorf("dead letter: %w", err)
		}
	}
	return s.Store(ctx, s.cfg.IngestTimeout.D(), b.events)
}

// waitStoring waits for the batch being stored, if any: a partition that
// leaves does so with what was stored committed.
func (s *Source) waitStoring() {
	if st := s.inflight.Load(); st != nil {
		_ = st.wait()
	}
}

// rewind sets every partition of recs back to its first record, so that
// the next polls return them again.
func (s *Source) rewind(recs []*kgo.Record) {
	to := map[string]map[int32]kgo.EpochOffset{}
	for _, r := range recs {
		ps := to[r.Topic]
		if ps == nil {
			ps = map[int32]kgo.EpochOffset{}
			to[r.Topic] = ps
		}
		if _, ok := ps[r.Partition]; !ok {
			ps[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
		}
	}
	s.cl.SetOffsets(to)
}

// deadLetter copies r to topic, with why it was refused and where it came
// from in headers.
func deadLetter(r *kgo.Record, topic string, err error) *kgo.Record {
	h := append([]kgo.RecordHeader(nil), r.Headers...)
	h = append(h,
		kgo.RecordHeader{Key: "eventbridge_error", Value: []byte(err.Error())},
		kgo.RecordHeader{Key: "eventbridge_origin", Value: []byte(r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10))},
	)
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: h}
}

// probe asks the cluster for metadata every second while disconnected and
// every five while connected, and records the result.
func probe(ctx context.Context, cl *kgo.Client, conn *conntrack.Conn) {
	conn.Probe(ctx, 5*time.Second, conntrack.Backoff{Min: 500 * time.Millisecond, Max: 5 * time.Second}, func(ctx context.Context) error {
		if err := cl.Ping(ctx); err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		return nil
	})
}

var _ connector.Source = (*Source)(nil)
