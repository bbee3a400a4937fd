package state

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// ConsumerName is the durable consumer of EVENTS that feeds the state
// (bus.StateConsumer).
const ConsumerName = bus.StateConsumer

// SourceKeys returns the state_key template of a bridge source resource
// ("" when it names none, or when there is no such resource).
type SourceKeys func(ctx context.Context, resource string) (string, error)

// keysTTL is how long a source's state_key is cached.
const keysTTL = 2 * time.Second

// batchMax bounds the events applied together.
const batchMax = 512

type feeder struct {
	s     *Store
	keys  SourceKeys
	feed  *bus.Feed
	ch    chan bus.Msg
	stop  chan struct{}
	done  chan struct{}
	tmpls map[string]cachedTmpl
}

type cachedTmpl struct {
	t  attrtemplate.Template
	at time.Time
}

// StartFeed starts keeping the state of the events in EVENTS, from where
// the durable consumer left off (from the first event on a first start).
// keys, when set, gives the state_key of source resources.
func (s *Store) StartFeed(ctx context.Context, keys SourceKeys) error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.feed != nil {
		return nil
	}
	f := &feeder{
		s: s, keys: keys,
		ch:    make(chan bus.Msg, 4*batchMax),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		tmpls: map[string]cachedTmpl{},
	}
	var err error
	f.feed, err = s.bus.StateFeed(ctx, bus.FeedOptions{
		AckWait:       cmp.Or(s.cfg.AckWait, 30*time.Second),
		MaxAckPending: 4 * batchMax * 4,
		Pull:          2 * batchMax,
		OnError:       func(err error) { s.log.Debug("state feed", "err", err) },
	}, func(m bus.Msg) {
		select {
		case f.ch <- m:
		case <-f.stop:
		}
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	go f.run()
	s.feed = f
	return nil
}

// StopFeed stops the feed; events it had not stored are handed out again
// on the next start.
func (s *Store) StopFeed() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.feed == nil {
		return
	}
	f := s.feed
	s.feed = nil
	f.feed.Stop()
	close(f.stop)
	<-f.done
	// Hand back what was taken but not stored, for the next start.
	for {
		select {
		case m := <-f.ch:
			_ = m.Nak()
		default:
			return
		}
	}
}

// RestartFeed pulls again after the bus restarted JetStream (which dropped
// the consumer's pull requests).
func (s *Store) RestartFeed() {
	s.fmu.Lock()
	f := s.feed
	s.fmu.Unlock()
	if f == nil {
		return
	}
	s.StopFeed()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.StartFeed(ctx, f.keys); err != nil {
		s.log.Error("state: cannot restart the feed after JetStream restarted", "err", err)
	}
}

func (f *feeder) run() {
	defer close(f.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-f.done:
		}
	}()
	batch := make([]bus.Msg, 0, batchMax)
	for {
		select {
		case m := <-f.ch:
			batch = append(batch, m)
		case <-f.stop:
			return
		}
	drain:
		for len(batch) < batchMax {
			select {
			case m := <-f.ch:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		f.apply(ctx, batch)
		clear(batch)
		batch = batch[:0]
	}
}

// item is one event of a batch, with its entry.
type item struct {
	msgs []bus.Msg // this and the older events of the same key in the batch
	bk   string
	seq  uint64
	val  []byte
}

// apply stores the newest event of each key in batch and acknowledges the
// batch's events once their key's write is stored (or found older than
// what is stored).
func (f *feeder) apply(ctx context.Context, batch []bus.Msg) {
	items := make([]*item, 0, len(batch))
	byKey := make(map[string]*item, len(batch))
	for _, m := range batch {
		it, err := f.entry(ctx, m)
		if errors.Is(err, errKeys) { // try again later
			if !f.s.bus.Report(err) { // an outage of the bus is logged once, by the bus
				f.s.log.Warn("state: cannot read a source's state_key; the event is handed out again", "err", err)
			}
			_ = m.NakWithDelay(2 * time.Second)
			continue
		}
		if err != nil {
			f.s.log.Warn("state: event not kept", "subject", m.Subject(), "err", err)
			_ = m.Ack()
			continue
		}
		if prev, ok := byKey[it.bk]; ok {
			prev.msgs = append(prev.msgs, m)
			if it.seq > prev.seq {
				prev.seq, prev.val = it.seq, it.val
			}
			continue
		}
		byKey[it.bk] = it
		items = append(items, it)
	}
	type pending struct {
		it *item
		w  bus.PendingWrite
	}
	ps := make([]pending, 0, len(items))
	for _, it := range items {
		sl, ok := f.s.getSlot(it.bk)
		if !ok {
			var err error
			if sl, err = f.s.loadSlot(ctx, it.bk); err != nil {
				f.nak(it, err)
				continue
			}
			f.s.setSlot(it.bk, sl)
		}
		if sl.rev != 0 && sl.seq >= it.seq {
			f.ack(it) // older than what is stored (a redelivery)
			continue
		}
		w, err := f.s.bkt.WriteAsync(it.bk, it.val, sl.rev)
		if err != nil {
			f.nak(it, err)
			continue
		}
		ps = append(ps, pending{it: it, w: w})
	}
	for _, p := range ps {
		rev, err := p.w.Wait(ctx)
		if err == nil {
			f.s.setSlot(p.it.bk, slot{seq: p.it.seq, rev: rev})
			f.ack(p.it)
			continue
		}
		if ctx.Err() != nil {
			return // not acknowledged: handed out again
		}
		// Mostly someone else wrote the key (a Put, a Delete, another
		// bridge, an expiry): read it again and decide again.
		if err := f.writeSync(ctx, p.it); err != nil {
			f.nak(p.it, err)
			continue
		}
		f.ack(p.it)
	}
}

// writeSync writes it unless the bucket holds a newer event, retrying
// when the key changes under it.
func (f *feeder) writeSync(ctx context.Context, it *item) error {
	var err error
	for range 5 {
		var sl slot
		if sl, err = f.s.loadSlot(ctx, it.bk); err != nil {
			return err
		}
		if sl.rev != 0 && sl.seq >= it.seq {
			f.s.setSlot(it.bk, sl)
			return nil
		}
		var rev uint64
		rev, err = f.s.bkt.Write(ctx, it.bk, it.val, sl.rev)
		if err == nil {
			f.s.setSlot(it.bk, slot{seq: it.seq, rev: rev})
			return nil
		}
		if !errors.Is(err, bus.ErrRevisionMismatch) {
			return err
		}
	}
	return err
}

func (f *feeder) ack(it *item) {
	for _, m := range it.msgs {
		_ = m.Ack()
	}
}

func (f *feeder) nak(it *item, err error) {
	if !f.s.bus.Report(err) { // an outage of the bus is logged once, by the bus
		f.s.log.Warn("state: cannot store an entry; the event is handed out again", "err", err)
	}
	f.s.mu.Lock()
	delete(f.s.slots, it.bk)
	f.s.mu.Unlock()
	for _, m := range it.msgs {
		_ = m.NakWithDelay(2 * time.Second)
	}
}

// head is what the feed reads of an event when no template needs more.
type head struct {
	Source  string `json:"source"`
	Subject string `json:"subject"`
}

// entry builds the bucket value of an EVENTS message.
func (f *feeder) entry(ctx context.Context, m bus.Msg) (*item, error) {
	info, err := m.Info()
	if err != nil {
		return nil, err
	}
	it, err := f.build(ctx, m.Data(), m.Source(), info.Seq, info.Time)
	if err != nil {
		return nil, err
	}
	it.msgs = []bus.Msg{m}
	return it, nil
}

// build makes the bucket value of an event (its JSON form) that source
// resource res ingested, stored at EVENTS sequence seq at time ts.
func (f *feeder) build(ctx context.Context, data []byte, res string, seq uint64, ts time.Time) (*item, error) {
	var source, subject, key string
	t, err := f.template(ctx, res)
	if err != nil {
		return nil, err
	}
	if !t.IsZero() {
		e := ce.New()
		if err := e.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		source, subject = e.Source(), e.Subject()
		k, err := t.Render(&e)
		if err == nil && k != "" {
			key = k
		} else {
			f.s.log.Debug("state: state_key attribute missing; keyed by source and subject", "resource", res, "err", err)
		}
	} else {
		var h head
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, err
		}
		source, subject = h.Source, h.Subject
	}
	if key == "" {
		key = DefaultKey(source, subject)
	}
	val, err := f.s.encode(key, source, subject, res, ts, seq, data)
	if err != nil {
		return nil, err
	}
	return &item{bk: bucketKey(key), seq: seq, val: val}, nil
}

// template returns the state_key template of a source resource, cached
// for keysTTL.
func (f *feeder) template(ctx context.Context, res string) (attrtemplate.Template, error) {
	if f.keys == nil || res == "" {
		return attrtemplate.Template{}, nil
	}
	if c, ok := f.tmpls[res]; ok && time.Since(c.at) < keysTTL {
		return c.t, nil
	}
	var t attrtemplate.Template
	src, err := f.keys(ctx, res)
	if err != nil {
		return t, fmt.Errorf("%w of %s: %w", errKeys, res, err)
	}
	if src != "" {
		if t, err = attrtemplate.Parse(src); err != nil {
			f.s.log.Warn("state: invalid state_key", "resource", res, "err", err)
		}
	}
	if len(f.tmpls) > 4096 {
		clear(f.tmpls)
	}
	f.tmpls[res] = cachedTmpl{t: t, at: time.Now()}
	return t, nil
}

// errKeys: a source's state_key could not be read (for now).
var errKeys = errors.New("state: reading the state_key")

// ResourceKeys reads the state_key of source resources from the
// resource desired.
func ResourceKeys(st *desired.Store) SourceKeys {
	return func(ctx context.Context, name string) (string, error) {
		o, err := st.Get(ctx, resource.KindSource, name)
		if err != nil {
			if errors.Is(err, desired.ErrNotFound) {
				return "", nil
			}
			return "", err
		}
		var spec struct {
			StateKey string `json:"state_key"`
		}
		_ = json.Unmarshal(o.Spec, &spec)
		return spec.StateKey, nil
	}
}
