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

// EncodeEvent builds the bus message for an event ingested by source, on
// its EVENTS subject: the JSON format of the event as body, its dedup key
// as Nats-Msg-Id. (Publish sends it to WORK, and to EVENTS with the key in
// Eb-Key.)
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

// Publish stores events ingested by source in EVENTS and WORK and returns
// once all are stored, with the number that were duplicates of events already
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
	// Each event is written twice, both writes in flight at once: to
	// WORK, the router's queue, and to EVENTS, the archive (see the
	// package doc). WORK decides duplicates (its Nats-Msg-Id); the archive
	// copy carries the key in Eb-Key instead, so the server keeps one
	// dedup map, not two, and a copy whose WORK twin was a duplicate, or
	// could not be stored, is deleted again.
	type pair struct{ work, archive jetstream.PubAckFuture }
	pairs := make([]pair, 0, len(events))
	for _, e := range events {
		m, err := EncodeEvent(source, e, now)
		if err != nil {
			return 0, err
		}
		ah := make(nats.Header, len(m.Header))
		for k, v := range m.Header {
			if k == jetstream.MsgIDHeader {
				k = HdrKey
			}
			ah[k] = v
		}
		if !dedup {
			m.Header.Del(jetstream.MsgIDHeader)
		}
		var p pair
		if p.work, err = b.js.PublishMsgAsync(&nats.Msg{Subject: WorkSubject(source, e.Type()), Header: m.Header, Data: m.Data}); err != nil {
			return 0, fmt.Errorf("bus: publish: %w", err)
		}
		if p.archive, err = b.js.PublishMsgAsync(&nats.Msg{Subject: m.Subject, Header: ah, Data: m.Data}); err != nil {
			return 0, fmt.Errorf("bus: publish: %w", err)
		}
		pairs = append(pairs, p)
	}
	for _, p := range pairs {
		wack, werr := waitAck(ctx, p.work)
		aack, aerr := waitAck(ctx, p.archive)
		switch {
		case werr != nil:
			if aerr == nil {
				b.dropArchived(aack.Sequence)
			}
			return dups, fmt.Errorf("bus: publish: %w", werr)
		case aerr != nil:
			return dups, fmt.Errorf("bus: publish: %w", aerr)
		case wack.Duplicate:
			dups++
			b.dropArchived(aack.Sequence)
		}
	}
	return dups, nil
}

// waitAck waits for a publish's acknowledgement.
func waitAck(ctx context.Context, f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dropArchived deletes the archive copy at seq of an event that WORK did
// not take (a duplicate, or a failed write the producer will send again).
// Best effort: a copy left behind is an archived duplicate, not a loss.
func (b *Bus) dropArchived(seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.events.DeleteMsg(ctx, seq); err != nil {
		b.log.Warn("cannot delete a duplicate archive copy", "seq", seq, "err", err)
	}
}

// EventKey is the dedup key, (source, id), of a message of EVENTS or WORK.
func EventKey(h nats.Header) string {
	if k := h.Get(HdrKey); k != "" {
		return k
	}
	return h.Get(jetstream.MsgIDHeader) // WORK, and EVENTS written before WORK existed
}
