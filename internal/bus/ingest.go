package bus

import (
	"context"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// EncodeEvent builds the EVENTS message for an event ingested by source:
// the JSON format of the event as body, its dedup key as Nats-Msg-Id.
func EncodeEvent(source string, e *ce.Event, now time.Time) (*nats.Msg, error) {
	body, err := e.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	m := &nats.Msg{
		Subject: EventSubject(source, e.Type()),
		Data:    body,
		Header:  make(nats.Header, 4),
	}
	m.Header[jetstream.MsgIDHeader] = []string{ebevent.DedupKey(e.Source(), e.ID())}
	m.Header[HdrContentType] = []string{ContentTypeEvent}
	m.Header[HdrSource] = []string{source}
	m.Header[HdrIngested] = []string{now.UTC().Format(time.RFC3339Nano)}
	return m, nil
}

// DecodeEvent parses a message body written by EncodeEvent (or a RETRY or
// DLQ message, which carry the same body).
func DecodeEvent(data []byte) (*ce.Event, error) {
	e := ce.New()
	if err := e.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	return &e, nil
}

// Publish stores events ingested by source in EVENTS and returns once all
// are stored, with the number that were duplicates of events already
// stored inside the dedup window. On error some may be stored; publishing
// the same events again is safe.
func (b *Bus) Publish(ctx context.Context, source string, events []*ce.Event) (dups int, err error) {
	return b.publish(ctx, source, events, true)
}

// PublishNoDedup stores events without deduplication: every copy is kept
// (for producers that reuse ids).
func (b *Bus) PublishNoDedup(ctx context.Context, source string, events []*ce.Event) error {
	_, err := b.publish(ctx, source, events, false)
	return err
}

func (b *Bus) publish(ctx context.Context, source string, events []*ce.Event, dedup bool) (dups int, err error) {
	now := time.Now()
	if len(events) == 1 {
		m, err := EncodeEvent(source, events[0], now)
		if err != nil {
			return 0, err
		}
		if !dedup {
			m.Header.Del(jetstream.MsgIDHeader)
		}
		ack, err := b.js.PublishMsg(ctx, m)
		if err != nil {
			return 0, fmt.Errorf("bus: publish: %w", err)
		}
		if ack.Duplicate {
			dups++
		}
		return dups, nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(events))
	for _, e := range events {
		m, err := EncodeEvent(source, e, now)
		if err != nil {
			return 0, err
		}
		if !dedup {
			m.Header.Del(jetstream.MsgIDHeader)
		}
		f, err := b.js.PublishMsgAsync(m)
		if err != nil {
			return 0, fmt.Errorf("bus: publish: %w", err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				dups++
			}
		case err := <-f.Err():
			return dups, fmt.Errorf("bus: publish: %w", err)
		case <-ctx.Done():
			return dups, fmt.Errorf("bus: publish: %w", ctx.Err())
		}
	}
	return dups, nil
}
