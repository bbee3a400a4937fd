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
	em := new(eventMsg)
	if err := em.encode(source, e, ebevent.DedupKey(e.Source(), e.ID()), now.UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, err
	}
	return &em.m, nil
}

// eventMsg is the bus message of one event as Publish writes it, with the
// room its header values and body need. Publish reuses them (eventMsgs):
// the connection copies a message when it is published, so one is free
// again once its last write is sent.
type eventMsg struct {
	m    nats.Msg
	vals [4]string // the header values
	body bytes.Buffer
}

var eventMsgs = sync.Pool{New: func() any { return &eventMsg{m: nats.Msg{Header: make(nats.Header, 5)}} }}

// maxPooledBody is the largest body whose message is reused; a larger one
// is left to the collector.
const maxPooledBody = 64 << 10

func getEventMsg() *eventMsg { return eventMsgs.Get().(*eventMsg) }

func putEventMsg(em *eventMsg) {
	if em == nil || em.body.Cap() > maxPooledBody {
		return
	}
	em.m.Subject, em.m.Data = "", nil
	clear(em.m.Header)
	em.vals = [4]string{}
	em.body.Reset()
	eventMsgs.Put(em)
}

// encode makes em the message of e, on its EVENTS subject, with the dedup
// key already made and the ingest time formatted.
func (em *eventMsg) encode(source string, e *ce.Event, key, ingested string) error {
	em.body.Reset()
	if err := writeEventJSON(e, &em.body); err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	em.vals = [4]string{key, ContentTypeEvent, source, ingested}
	if em.m.Header == nil {
		em.m.Header = make(nats.Header, 5)
	}
	em.m.Subject = EventSubject(source, e.Type())
	em.m.Data = em.body.Bytes()
	em.m.Header[HdrKey] = em.vals[0:1:1]
	em.m.Header[HdrContentType] = em.vals[1:2:2]
	em.m.Header[HdrSource] = em.vals[2:3:3]
	em.m.Header[HdrIngested] = em.vals[3:4:4]
	return nil
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

// Publish stores events ingested by source in EVENTS (and WORK, see
// writesWork) and returns
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
	// The call is followed until it has handed what it stored to the local
	// readers (handover.go): they may settle the archive only below its
	// floor.
	call, maxSeq := b.local.pubs.begin(), uint64(0)
	defer func() { b.local.pubs.end(call, maxSeq) }()
	// On an embedded bus that listens on no port (one bridge owns it),
	// each event is written once, to EVENTS: the archive is the record
	// of what the router has not settled (it keeps a checkpoint of
	// EVENTS sequences, internal/router/local.go). Elsewhere it is written
	// twice: to WORK, the router's queue, and then to EVENTS, the archive
	// (see the package doc). The writes of a batch are in flight
	// together. Duplicates are decided before any write, by the bus's own
	// set of keys (dedupSet); every copy carries the key in Eb-Key. On an
	// external cluster, which several bridges may share, WORK also gets it
	// as Nats-Msg-Id, so the server drops a duplicate that another bridge
	// stored, and it is not archived.
	work := b.writesWork()
	// Local readers (local.go) are handed each stored event with its body,
	// which is then not reused.
	local := b.hasLocalReaders()
	type pending struct {
		key                  string
		h                    keyHash
		dup, claimed, stored bool
		em                   *eventMsg // until the archive copy is sent
		subject              string    // EVENTS subject
		work, archive        *pubWait
		workSeq              uint64
		raw                  []byte // the body, kept for local readers
	}
	ps := make([]pending, len(events))
	for i, e := range events {
		ps[i].key = ebevent.DedupKey(e.Source(), e.ID())
	}
	// keep is called once p's archive copy is sent (the connection copied
	// it): the body goes to the local readers, or the message is reused.
	keep := func(p *pending) {
		if local {
			p.raw = p.em.m.Data // the message is left to the collector
		} else {
			putEventMsg(p.em)
		}
		p.em = nil
	}
	defer func() {
		// Release every claim. A key is remembered only if every copy of
		// its event was stored: the producer sends a failed one again.
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
	// one WORK took (or, with one write, one the router reads back from
	// the archive), which the rebuild of the set after a crash relies on.
	// One message serves both writes: WORK's subject, then the archive's.
	ingested := now.UTC().Format(time.RFC3339Nano)
	msgID := dedup && b.cfg.URL != ""
	for i, e := range events {
		p := &ps[i]
		if p.dup {
			continue
		}
		p.em = getEventMsg()
		if err = p.em.encode(source, e, p.key, ingested); err != nil {
			return dups, err
		}
		m := &p.em.m
		p.subject = b.n.subject(m.Subject)
		if !work { // the one write: the archive
			m.Subject = p.subject
			if p.archive, err = b.acks.publish(m); err != nil {
				return dups, fmt.Errorf("bus: publish: %w", err)
			}
			keep(p)
			continue
		}
		m.Subject = b.n.workSubjectOf(p.subject)
		if msgID {
			m.Header[jetstream.MsgIDHeader] = m.Header[HdrKey]
		}
		if p.work, err = b.acks.publish(m); err != nil {
			return dups, fmt.Errorf("bus: publish: %w", err)
		}
	}
	// Wait for every WORK write, so that each claim is settled with what
	// became of its event, and archive what WORK took.
	for i := range ps {
		p := &ps[i]
		if p.dup || p.work == nil {
			continue
		}
		dup, wseq, werr := b.waitSeq(ctx, p.work, filled)
		p.work, p.workSeq = nil, wseq
		switch {
		case werr != nil:
			err = cmp.Or(err, werr)
		case dup: // another bridge stored it (external cluster)
			dups++
			p.stored = true
		default:
			m := &p.em.m
			m.Subject = p.subject
			delete(m.Header, jetstream.MsgIDHeader)
			if p.archive, werr = b.acks.publish(m); werr != nil {
				err = cmp.Or(err, werr)
			}
		}
		// Sent (the connection copied it), or not to be sent.
		if p.archive != nil {
			keep(p)
		} else {
			putEventMsg(p.em)
			p.em = nil
		}
	}
	var stored []Stored
	for i := range ps {
		p := &ps[i]
		if p.archive == nil {
			continue
		}
		_, aseq, aerr := b.waitSeq(ctx, p.archive, filled)
		p.archive = nil
		if aerr != nil {
			err = cmp.Or(err, aerr)
			continue
		}
		maxSeq = max(maxSeq, aseq)
		p.stored = true
		if local && p.raw != nil {
			if stored == nil {
				stored = make([]Stored, 0, len(ps))
			}
			stored = append(stored, Stored{
				Source: source, Event: events[i], Raw: p.raw, Key: p.key, Ingested: now,
				WorkSeq: p.workSeq, EventsSeq: aseq,
			})
		}
	}
	// Every event stored is handed to the local readers, also when another
	// of the batch failed: the producer sends the batch again, and the
	// ones stored are then duplicates.
	b.toLocal(stored)
	if err != nil {
		return dups, b.publishErr(err)
	}
	b.noteUp()
	return dups, nil
}

// writesWork tells whether Publish writes WORK besides EVENTS: on an
// external cluster and on an embedded bus that listens (other bridges may
// share them and consume WORK), or when a durable consumer of WORK was
// opened in this process (a router told to consume). On an embedded bus
// that listens on no port, EVENTS is the one write and the router keeps
// a checkpoint of it instead (docs/architecture.md, "Routing").
func (b *Bus) writesWork() bool {
	return !b.StateFeedLocal() || b.workConsumed.Load()
}

// waitAck waits for a write's acknowledgement (dup: the store had its
// Nats-Msg-Id), or until storage is found full (filled closed): a store
// that cannot write does not answer. It hands w back.
func (b *Bus) waitAck(ctx context.Context, w *pubWait, filled <-chan struct{}) (dup bool, err error) {
	dup, _, err = b.waitSeq(ctx, w, filled)
	return dup, err
}

// waitSeq is waitAck that also gives the stored message's stream sequence.
func (b *Bus) waitSeq(ctx context.Context, w *pubWait, filled <-chan struct{}) (dup bool, seq uint64, err error) {
	select {
	case <-w.done:
	case <-ctx.Done():
		b.acks.abandon(w)
		return false, 0, ctx.Err()
	case <-filled:
		select { // an answer that came with the news wins
		case <-w.done:
		default:
			b.acks.abandon(w)
			if _, full := b.storage.state(); full != nil {
				return false, 0, full
			}
			return false, 0, ErrStorageFull
		}
	}
	dup, seq, err = w.dup, w.seq, w.err
	b.acks.release(w)
	return dup, seq, err
}

// EventKey is the dedup key, (source, id), of a message of EVENTS or WORK.
func EventKey(h nats.Header) string {
	if k := h.Get(HdrKey); k != "" {
		return k
	}
	return h.Get(jetstream.MsgIDHeader) // WORK, and EVENTS written before WORK existed
}
