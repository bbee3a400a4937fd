package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
)

// Source reads CloudEvents from a Redis stream (consumer group) or a
// pub/sub channel.
//
// Stream entries are acknowledged (XACK) only after Ingest stored their
// events. When Ingest fails, the entries stay pending and are read again
// from this consumer's pending list after a backoff; entries another
// consumer left pending for longer than claim_idle are claimed and read
// too. A stream with one consumer keeps the stream's order.
type Source struct {
	intake.Base
	cfg    *SourceConfig
	client *goredis.Client
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	s := &Source{cfg: c.(*SourceConfig)}
	if s.cfg.Group == "" {
		s.cfg.Group = "eventbridge-" + name
	}
	s.Init(name, "redis", deps)
	if s.cfg.Channel != "" {
		s.Failures = intake.NewFailures(s.Log, "pub/sub cannot redeliver, so the messages received meanwhile are lost")
	}
	return s, nil
}

// Start creates the client and returns; connecting (and creating the
// consumer group) happens in the background, retried while the source
// runs.
func (s *Source) Start(startCtx context.Context) error {
	s.Conn.Starting()
	o, err := s.cfg.options(s.Deps.Guard)
	if err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.Name, err)
	}
	s.client = goredis.NewClient(o)
	ctx := s.Loops.Start()
	if s.cfg.Channel != "" {
		s.SetDetail("channel", s.cfg.Channel)
		s.Loops.Go(func() { s.subscribe(ctx) })
	} else {
		s.SetDetail("stream", s.cfg.Stream)
		s.SetDetail("group", s.cfg.Group)
		s.Loops.Go(func() { s.readStream(ctx) })
	}
	// Return subscribed (a channel loses what is published before) or with
	// the group created, unless the server is not there.
	s.Conn.WaitUp(startCtx, 5*time.Second)
	return nil
}

// Stop stops reading; entries in hand are acknowledged if they were
// stored, else left pending for the next start.
func (s *Source) Stop(ctx context.Context) error {
	s.Conn.Stopping()
	s.Loops.Stop(ctx, func() { _ = s.client.Close() })
	s.Conn.Stopped(nil)
	return nil
}

// readStream is the stream loop: create the group, then read this
// consumer's pending entries, claim other consumers' stale ones, and read
// new ones.
func (s *Source) readStream(ctx context.Context) {
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	var bo conntrack.Backoff
	grouped, pending := false, true
	nextClaim := time.Now()
	fail := func(err error) {
		if ctx.Err() != nil {
			return
		}
		s.Conn.Down(fmt.Errorf("redis: %w", err))
		s.Log.Debug("stream read failed", "err", err)
		conntrack.Sleep(ctx, bo.Next())
	}
	for ctx.Err() == nil {
		if !grouped {
			if err := s.createGroup(ctx); err != nil {
				fail(err)
				continue
			}
			grouped = true
		}
		var msgs []goredis.XMessage
		var err error
		switch {
		case time.Now().After(nextClaim):
			msgs, err = s.claim(ctx)
			if err == nil && len(msgs) == 0 {
				nextClaim = time.Now().Add(s.cfg.ClaimIdle.D() / 2)
			}
		case pending:
			msgs, err = s.read(ctx, "0", -1)
			if err == nil && len(msgs) == 0 {
				pending = false
			}
		default:
			msgs, err = s.read(ctx, ">", time.Second)
		}
		if err != nil {
			if goredis.HasErrorPrefix(err, "NOGROUP") {
				grouped = false // the stream or group was deleted: create it again
			}
			fail(err)
			continue
		}
		s.Conn.Up()
		if len(msgs) == 0 {
			continue
		}
		if err := s.handle(ctx, msgs); err != nil {
			// Not acknowledged: the entries stay pending, read again from "0".
			pending = true
			if ctx.Err() == nil && !errors.Is(err, intake.ErrNotStored) { // Store logs its own failures, once per outage
				s.Log.Warn("entries not stored; reading them again", "entries", len(msgs), "err", err)
			}
			conntrack.Sleep(ctx, bo.Next())
			continue
		}
		bo.Reset()
	}
}

func (s *Source) createGroup(ctx context.Context) error {
	start := "0"
	if s.cfg.Start == "latest" {
		start = "$"
	}
	err := s.client.XGroupCreateMkStream(ctx, s.cfg.Stream, s.cfg.Group, start).Err()
	if err != nil && !goredis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	return nil
}

// read reads entries after id ("0": this consumer's pending ones, ">":
// new ones), blocking up to block (negative: not at all).
func (s *Source) read(ctx context.Context, id string, block time.Duration) ([]goredis.XMessage, error) {
	res, err := s.client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: s.cfg.Group, Consumer: s.cfg.Consumer,
		Streams: []string{s.cfg.Stream, id}, Count: int64(s.cfg.Batch), Block: block,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0].Messages, nil
}

// claim takes over entries pending with other consumers for longer than
// claim_idle.
func (s *Source) claim(ctx context.Context) ([]goredis.XMessage, error) {
	msgs, _, err := s.client.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
		Stream: s.cfg.Stream, Group: s.cfg.Group, Consumer: s.cfg.Consumer,
		MinIdle: s.cfg.ClaimIdle.D(), Start: "0", Count: int64(s.cfg.Batch),
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if len(msgs) > 0 {
		s.Log.Info("claimed entries of another consumer", "entries", len(msgs))
	}
	return msgs, err
}

// handle stores the events of msgs with one Ingest and acknowledges the
// entries; invalid ones are dead-lettered (or only logged) and
// acknowledged too.
func (s *Source) handle(ctx context.Context, msgs []goredis.XMessage) error {
	events := make([]*ce.Event, 0, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
		if m.Values == nil {
			continue // deleted while pending: nothing to store
		}
		e, err := decodeEntry(m.Values)
		if err == nil {
			err = s.cfg.CheckExtensions(e)
		}
		switch {
		case err == nil:
			events = append(events, e)
		case errors.Is(err, errNotCloudEvent) && s.cfg.Wrap != nil:
			b := entryJSON(m.Values)
			events = append(events, s.cfg.Wrap.Event(b, "application/json", s.cfg.Stream))
		default:
			s.Invalid(err)
			s.Log.Warn("entry is not a valid CloudEvent", "stream", s.cfg.Stream, "id", m.ID, "err", err, "dead_letter", s.cfg.DeadLetter)
			if s.cfg.DeadLetter != "" {
				if derr := s.deadLetter(ctx, m, err); derr != nil {
					return fmt.Errorf("dead letter: %w", derr)
				}
			}
		}
	}
	s.Received(len(msgs))
	if err := s.Store(ctx, s.cfg.IngestTimeout.D(), events); err != nil {
		return err
	}
	// Acknowledge even when the source is stopping: the events are stored.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.client.XAck(actx, s.cfg.Stream, s.cfg.Group, ids...).Err(); err != nil {
		s.Log.Warn("XACK failed; the entries will be read again", "err", err)
	}
	return nil
}

func (s *Source) deadLetter(ctx context.Context, m goredis.XMessage, cause error) error {
	vals := make([]any, 0, 2*len(m.Values)+4)
	for k, v := range m.Values {
		vals = append(vals, k, v)
	}
	vals = append(vals, "eventbridge_error", cause.Error(), "eventbridge_origin", s.cfg.Stream+"/"+m.ID)
	return s.client.XAdd(ctx, &goredis.XAddArgs{Stream: s.cfg.DeadLetter, Values: vals}).Err()
}

var _ connector.Source = (*Source)(nil)
