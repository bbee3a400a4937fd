package bus

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// EncodeEvent builds the bus message for an event ingested by source, on
// its EVENTS subject: the JSON format of the event as body, its dedup key
// in Eb-Key. (Publish sends it to EVENTS, and to WORK.)
func EncodeEvent(source string, e *ce.Event, now time.Time) (*nats.Msg, error) {
	return encodeEvent(source, e, ebevent.DedupKey(e.Source(), e.ID()), now, new(bytes.Buffer))
}

// encodeEvent is EncodeEvent with the event's dedup key already made,
// writing the body into buf (the message's Data is buf's bytes).
func encodeEvent(source string, e *ce.Event, key string, now time.Time, buf *bytes.Buffer) (*nats.Msg, error) {
	if err := writeEventJSON(e, buf); err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	// One array holds the four header values.
	vals := []string{key, ContentTypeEvent, source, now.UTC().Format(time.RFC3339Nano)}
	return &nats.Msg{
		Subject: EventSubject(source, e.Type()),
		Data:    buf.Bytes(),
		Header: nats.Header{
			HdrKey:         vals[0:1:1],
			HdrContentType: vals[1:2:2],
			HdrSource:      vals[2:3:3],
			HdrIngested:    vals[3:4:4],
		},
	}, nil
}

// bodies are the buffers of the bodies Publish writes. A buffer goes back
// only once both writes of its event were acknowledged (the client no
// longer holds the message); a large one is left to the collector.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 64 << 10

func getBody() *bytes.Buffer { return bodies.Get().(*bytes.Buffer) }

func putBody(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodies.Put(b)
}

// DecodeEvent parses a message body written by EncodeEvent (or a RETRY or
// DLQ message, which carry the same body).
func DecodeEvent(data []byte) (*ce.Event, error) {
	// A zero event, not ce.New(): UnmarshalJSON makes the context that the
	// body's specversion calls for, and would drop one made here.
	e := new(ce.Event)
	if err := e.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	return e, nil
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
	if len(events) == 0 {
		return 0, nil
	}
	// Refuse at once while storage is known to be full; a write that is
	// in flight when it fills fails as soon as the guard sees it.
	filled, full := b.storage.state()
	if full != nil {
		return 0, full
	}
	now := time.Now()
	// Each event is written twice: to WORK, the router's queue, and then
	// to EVENTS, the archive (see the package doc); the writes of a batch
	// are in flight together. Duplicates are decided before either write,
	// by the bus's own set of keys (dedupSet); both copies carry the key in
	// Eb-Key. On an external cluster, which several bridges may share, WORK
	// also gets it as Nats-Msg-Id, so the server drops a duplicate that
	// another bridge stored, and it is not archived.
	type pending struct {
		key                  string
		h                    keyHash
		dup, claimed, stored bool
		m                    *nats.Msg // the archive copy, until written
		body                 *bytes.Buffer
		work, archive        jetstream.PubAckFuture
	}
	ps := make([]pending, len(events))
	for i, e := range events {
		ps[i].key = ebevent.DedupKey(e.Source(), e.ID())
	}
	defer func() {
		// Release every claim. A key is remembered only if both copies of
		// its event were stored: the producer sends a failed one again.
		for _, p := range ps {
			if p.claimed {
				b.dedup.settle(p.h, p.stored, now)
			}
		}
	}()
	if dedup {
		// Claim the keys in the order of their hashes: a claim waits for
		// another call's claim of the same key, and a fixed order keeps two
		// batches from each waiting for the other.
		order := []int{0}
		if len(events) > 1 {
			order = make([]int, len(events))
		}
		for i := range ps {
			ps[i].h = hashKey(ps[i].key)
			order[i] = i
		}
		if len(order) > 1 {
			slices.SortStableFunc(order, func(i, j int) int { return bytes.Compare(ps[i].h[:], ps[j].h[:]) })
		}
		for n, i := range order {
			if n > 0 && ps[order[n-1]].h == ps[i].h { // twice in this batch
				ps[i].dup = true
				dups++
				continue
			}
			dup, err := b.dedup.claim(ctx, ps[i].h, now)
			if err != nil {
				return dups, fmt.Errorf("bus: publish: %w", err)
			}
			ps[i].dup, ps[i].claimed = dup, !dup
			if dup {
				dups++
			}
		}
	}
	// WORK first, then the archive: a key the archive holds is then always
	// one WORK took, which the rebuild of the set after a crash relies on.
	for i, e := range events {
		p := &ps[i]
		if p.dup {
			continue
		}
		p.body = getBody()
		if p.m, err = encodeEvent(source, e, p.key, now, p.body); err != nil {
			return dups, err
		}
		p.m.Subject = b.n.subject(p.m.Subject)
		wh := p.m.Header
		if dedup && b.cfg.URL != "" {
			wh = make(nats.Header, len(p.m.Header)+1)
			for k, v := range p.m.Header {
				wh[k] = v
			}
			wh[jetstream.MsgIDHeader] = p.m.Header[HdrKey]
		}
		if p.work, err = b.js.PublishMsgAsync(&nats.Msg{Subject: b.n.workSubjectOf(p.m.Subject), Header: wh, Data: p.m.Data}); err != nil {
			return dups, fmt.Errorf("bus: publish: %w", err)
		}
	}
	// Wait for every write, so that each claim is settled with what became
	// of its event, and archive what WORK took.
	for i := range ps {
		p := &ps[i]
		if p.dup {
			continue
		}
		ack, werr := b.waitAck(ctx, p.work, filled)
		switch {
		case werr != nil:
			err = cmp.Or(err, werr)
			p.m = nil
		case ack.Duplicate: // another bridge stored it (external cluster)
			dups++
			p.stored, p.m = true, nil
			putBody(p.body)
		default:
			if p.archive, werr = b.js.PublishMsgAsync(p.m); werr != nil {
				err = cmp.Or(err, werr)
				p.m = nil
			}
		}
	}
	for i := range ps {
		p := &ps[i]
		if p.dup || p.m == nil {
			continue
		}
		if _, aerr := b.waitAck(ctx, p.archive, filled); aerr != nil {
			err = cmp.Or(err, aerr)
			continue
		}
		p.stored = true
		putBody(p.body)
	}
	if err != nil {
		return dups, b.publishErr(err)
	}
	b.noteUp()
	return dups, nil
}

// waitAck waits for a publish's acknowledgement, or until storage is
// found full (filled closed): a store that cannot write does not answer.
func (b *Bus) waitAck(ctx context.Context, f jetstream.PubAckFuture, filled <-chan struct{}) (*jetstream.PubAck, error) {
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-filled:
		select { // an answer that came with the news wins
		case ack := <-f.Ok():
			return ack, nil
		case err := <-f.Err():
			return nil, err
		default:
		}
		if _, full := b.storage.state(); full != nil {
			return nil, full
		}
		return nil, ErrStorageFull
	}
}

// EventKey is the dedup key, (source, id), of a message of EVENTS or WORK.
func EventKey(h nats.Header) string {
	if k := h.Get(HdrKey); k != "" {
		return k
	}
	return h.Get(jetstream.MsgIDHeader) // WORK, and EVENTS written before WORK existed
}
