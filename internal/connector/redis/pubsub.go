package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// subscribe is the pub/sub loop. Pub/sub is at-most-once: messages
// published while the source is disconnected, or whose Ingest fails, are
// lost (counted as rejected, reason "unavailable").
func (s *Source) subscribe(ctx context.Context) {
	var ps *goredis.PubSub
	if s.cfg.Pattern {
		ps = s.client.PSubscribe(ctx, s.cfg.Channel)
	} else {
		ps = s.client.Subscribe(ctx, s.cfg.Channel)
	}
	defer ps.Close()
	// Closing interrupts a receive in progress: nothing is acknowledged
	// on a channel, so there is nothing to finish.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	var bo conntrack.Backoff
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, 2*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet channel: check that the connection still works.
				if err = ps.Ping(ctx); err == nil {
					continue
				}
			}
			s.Conn.Down(fmt.Errorf("redis: %w", err))
			conntrack.Sleep(ctx, bo.Next())
			continue // the next receive reconnects and subscribes again
		}
		bo.Reset()
		s.Conn.Up()
		if m, ok := msg.(*goredis.Message); ok {
			s.handleMessage(ctx, m)
		}
	}
}

func (s *Source) handleMessage(ctx context.Context, m *goredis.Message) {
	s.Received(1)
	payload := []byte(m.Payload)
	e, err := decodeMessage(payload)
	if err == nil {
		err = s.cfg.CheckExtensions(e)
	}
	switch {
	case err == nil:
	case errors.Is(err, errNotCloudEvent) && s.cfg.Wrap != nil:
		e = s.cfg.Wrap.Event(payload, wrapContentType(payload), m.Channel)
	default:
		s.Invalid(err)
		s.Log.Warn("message is not a valid CloudEvent", "channel", m.Channel, "err", err, "dead_letter", s.cfg.DeadLetter)
		if s.cfg.DeadLetter != "" {
			b, _ := json.Marshal(map[string]string{"eventbridge_error": err.Error(), "eventbridge_origin": m.Channel, "payload": m.Payload})
			if err := s.client.Publish(ctx, s.cfg.DeadLetter, b).Err(); err != nil {
				s.Log.Warn("dead letter not published", "err", err)
			}
		}
		return
	}
	// A message not stored is lost (pub/sub cannot redeliver); Store logs
	// that once per outage (intake.Failures), and counts every message.
	_ = s.Store(ctx, s.cfg.IngestTimeout.D(), []*ce.Event{e})
}

// entryJSON is a stream entry's fields as a JSON object, the data of a
// wrapped entry.
func entryJSON(fields map[string]any) []byte {
	b, _ := json.Marshal(fields)
	return b
}
