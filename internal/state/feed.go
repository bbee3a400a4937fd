package state

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// ConsumerName is the durable consumer of EVENTS that feeds the state on
// an external cluster (bus.StateConsumer).
const ConsumerName = bus.StateConsumer

// SourceKeys returns the state_key template of a bridge source resource
// ("" when it names none, or when there is no such resource).
type SourceKeys func(ctx context.Context, resource string) (string, error)

// keysTTL is how long a source's state_key is cached.
const keysTTL = 2 * time.Second

// batchMax bounds the events applied together.
const batchMax = 512

// The feed runs in one of two ways. On an external cluster (bus.url set),
// which several bridges may share, a durable consumer of EVENTS hands out
// every event, and each is acknowledged once its entry is written. On the
// embedded bus, which this bridge alone writes, Publish hands every event
// it stored to the feed in process (bus.AddLocalReader), and a checkpoint
// in data_dir (the EVENTS sequence up to which every event is applied)
// replaces the consumer's state: on start the feed reads back from the
// archive what lies after it (feedlocal.go).
type feeder struct {
	s     *Store
	keys  SourceKeys
	local bool
	feed  *bus.Feed // the consumer (not local)
	ch    chan []rec
	stop  chan struct{}
	done  chan struct{}
	tmpls map[string]cachedTmpl

	ctx    context.Context // ends at stop
	cancel context.CancelFunc

	// queued counts the events handed to ch and not yet taken; applying
	// the events of the batch being applied. qmu and qcond bound queued
	// (local: Publish waits, which pushes back on ingest).
	queued   atomic.Int64
	applying atomic.Int64
	qmu      sync.Mutex
	qcond    *sync.Cond
	stopping bool // under qmu

	// local mode (feedlocal.go)
	tr       *tracker
	archive  int64       // the archive's creation time (its checkpoint's)
	savedAt  time.Time   // when the checkpoint was saved last
	fills    chan []span // holes for the reader to read back
	wg       sync.WaitGroup
	every    time.Duration // checkpoint and hole check period
	prevLast uint64        // archive's last sequence at the previous check
	saved    uint64        // checkpoint saved
	saveErr  bool          // the last save failed (logged once)
	ok, bad  []uint64      // sequences settled by the batch being applied
}

type cachedTmpl struct {
	t  attrtemplate.Template
	at time.Time
}

// rec is one event to apply: handed by Publish, read back from the
// archive, or handed out by the consumer.
type rec struct {
	seq uint64    // EVENTS sequence
	res string    // the source resource that ingested it
	ev  *ce.Event // the event, when Publish handed it (nil: parse raw)
	raw []byte    // its JSON form as stored
	ts  time.Time // when the bus took it in (the entry's updated)
	msg bus.Msg   // the consumer's message to settle (consumer mode)
}

// StartFeed starts keeping the state of the events in EVENTS, from where
// it left off (from the first event on a first start). keys, when set,
// gives the state_key of source resources.
func (s *Store) StartFeed(ctx context.Context, keys SourceKeys) error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.feed != nil {
		return nil
	}
	f := &feeder{
		s: s, keys: keys,
		local: s.bus.StateFeedLocal() && !s.consumerFeed,
		ch:    make(chan []rec, 4*batchMax),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		tmpls: map[string]cachedTmpl{},
		every: cmp.Or(s.checkpointEvery, checkpointEvery),
	}
	f.qcond = sync.NewCond(&f.qmu)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	if f.local {
		if err := f.startLocal(ctx); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		s.feed = f
		return nil
	}
	var err error
	f.feed, err = s.bus.StateFeed(ctx, bus.FeedOptions{
		AckWait:       cmp.Or(s.cfg.AckWait, 30*time.Second),
		MaxAckPending: 4 * batchMax * 4,
		Pull:          2 * batchMax,
		OnError:       func(err error) { s.log.Debug("state feed", "err", err) },
	}, f.fromConsumer)
	if err != nil {
		f.cancel()
		return fmt.Errorf("state: %w", err)
	}
	go f.run()
	s.feed = f
	return nil
}

// fromConsumer takes a message of the consumer.
func (f *feeder) fromConsumer(m bus.Msg) {
	info, err := m.Info()
	if err != nil {
		f.s.log.Warn("state: event not kept", "subject", m.Subject(), "err", err)
		_ = m.Ack()
		return
	}
	ts := m.Ingested()
	if ts.IsZero() {
		ts = info.Time
	}
	f.enqueue([]rec{{seq: info.Seq, res: m.Source(), raw: m.Data(), ts: ts, msg: m}})
}

// maxQueued bounds the events waiting for the feed.
const maxQueued = 16 * batchMax

// enqueue hands rs to the feed's goroutine, waiting while it is
// maxQueued events behind; false when the feed stopped.
func (f *feeder) enqueue(rs []rec) bool {
	f.qmu.Lock()
	for f.queued.Load() >= maxQueued && !f.stopping {
		f.qcond.Wait()
	}
	stopping := f.stopping
	if !stopping {
		f.queued.Add(int64(len(rs)))
	}
	f.qmu.Unlock()
	if stopping {
		return false
	}
	select {
	case f.ch <- rs:
		return true
	case <-f.stop:
		return false
	}
}

// taken notes n events taken from the queue.
func (f *feeder) taken(n int) {
	if f.queued.Add(-int64(n)) < maxQueued {
		f.qmu.Lock()
		f.qcond.Broadcast()
		f.qmu.Unlock()
	}
}

// StopFeed stops the feed; events it had not stored are handed out again,
// or read back from the archive, on the next start.
func (s *Store) StopFeed() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.feed == nil {
		return
	}
	f := s.feed
	s.feed = nil
	f.qmu.Lock()
	f.stopping = true
	f.qcond.Broadcast()
	f.qmu.Unlock()
	if f.local {
		f.stopLocal()
		return
	}
	f.feed.Stop()
	close(f.stop)
	f.cancel()
	<-f.done
	// Hand back what was taken but not stored, for the next start.
	for {
		select {
		case rs := <-f.ch:
			for _, r := range rs {
				_ = r.msg.Nak()
			}
		default:
			return
		}
	}
}

// RestartFeed starts the feed again after the bus restarted JetStream
// (which dropped the consumer's pull requests, and writes in flight).
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

// FeedLag is how far the feed is behind: events waiting to be taken (and,
// on start, to be read back from the archive) and events being written.
// ok is false when the feed is not running.
func (s *Store) FeedLag() (pending, writing int64, local, ok bool) {
	s.fmu.Lock()
	f := s.feed
	s.fmu.Unlock()
	if f == nil {
		return 0, 0, false, false
	}
	return f.queued.Load(), f.applying.Load(), f.local, true
}

func (f *feeder) run() {
	defer close(f.done)
	batch := make([]rec, 0, batchMax)
	for {
		select {
		case rs := <-f.ch:
			batch = append(batch, rs...)
		case <-f.stop:
			return
		}
	drain:
		for len(batch) < batchMax {
			select {
			case rs := <-f.ch:
				batch = append(batch, rs...)
			default:
				break drain
			}
		}
		f.applying.Store(int64(len(batch)))
		f.taken(len(batch))
		f.apply(f.ctx, batch)
		f.applying.Store(0)
		clear(batch)
		batch = batch[:0]
	}
}

// item is one entry to write: the newest event of a key in a batch.
type item struct {
	recs []*rec // this and the older events of the same key in the batch
	bk   string
	seq  uint64
	val  []byte
}

// apply stores the newest event of each key in batch and settles the
// batch's events once their key's write is stored (or found older than
// what is stored): acknowledged (consumer), or noted applied for the
// checkpoint (local).
func (f *feeder) apply(ctx context.Context, batch []rec) {
	defer f.flushSettled()
	items := make([]*item, 0, len(batch))
	byKey := make(map[string]*item, len(batch))
	for i := range batch {
		r := &batch[i]
		it, err := f.build(ctx, r)
		if errors.Is(err, errKeys) { // try again later
			if !f.s.bus.Report(err) { // an outage of the bus is logged once, by the bus
				f.s.log.Warn("state: cannot read a source's state_key; the event is taken again later", "err", err)
			}
			f.settle(r, false)
			continue
		}
		if err != nil {
			f.s.log.Warn("state: event not kept", "seq", r.seq, "resource", r.res, "err", err)
			f.settle(r, true)
			continue
		}
		if prev, ok := byKey[it.bk]; ok {
			prev.recs = append(prev.recs, r)
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
			f.ack(it) // older than what is stored (taken again)
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
			return // not settled: taken again
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

// settle notes r applied (ok) or to be taken again.
func (f *feeder) settle(r *rec, ok bool) {
	if !f.local {
		if ok {
			_ = r.msg.Ack()
		} else {
			_ = r.msg.NakWithDelay(2 * time.Second)
		}
		return
	}
	if ok {
		f.ok = append(f.ok, r.seq)
	} else {
		f.bad = append(f.bad, r.seq)
	}
}

// flushSettled tells the tracker what the batch settled (local), at once.
func (f *feeder) flushSettled() {
	if !f.local || len(f.ok)+len(f.bad) == 0 {
		return
	}
	slices.Sort(f.ok)
	f.tr.settle(f.ok, f.bad)
	f.ok, f.bad = f.ok[:0], f.bad[:0]
}

func (f *feeder) ack(it *item) {
	for _, r := range it.recs {
		f.settle(r, true)
	}
}

func (f *feeder) nak(it *item, err error) {
	if !f.s.bus.Report(err) { // an outage of the bus is logged once, by the bus
		f.s.log.Warn("state: cannot store an entry; the event is taken again later", "err", err)
	}
	f.s.mu.Lock()
	delete(f.s.slots, it.bk)
	f.s.mu.Unlock()
	for _, r := range it.recs {
		f.settle(r, false)
	}
}

// head is what the feed reads of an event when no template needs more.
type head struct {
	Source  string `json:"source"`
	Subject string `json:"subject"`
}

// build makes the bucket value of an event (its JSON form).
func (f *feeder) build(ctx context.Context, r *rec) (*item, error) {
	var source, subject, key string
	t, err := f.template(ctx, r.res)
	if err != nil {
		return nil, err
	}
	switch {
	case !t.IsZero():
		e := r.ev
		if e == nil {
			ev := ce.New()
			if err := ev.UnmarshalJSON(r.raw); err != nil {
				return nil, err
			}
			e = &ev
		}
		source, subject = e.Source(), e.Subject()
		k, err := t.Render(e)
		if err == nil && k != "" {
			key = k
		} else {
			f.s.log.Debug("state: state_key attribute missing; keyed by source and subject", "resource", r.res, "err", err)
		}
	case r.ev != nil:
		source, subject = r.ev.Source(), r.ev.Subject()
	default:
		var h head
		if err := json.Unmarshal(r.raw, &h); err != nil {
			return nil, err
		}
		source, subject = h.Source, h.Subject
	}
	if key == "" {
		key = DefaultKey(source, subject)
	}
	val, err := f.s.encode(key, source, subject, r.res, r.ts, r.seq, r.raw)
	if err != nil {
		return nil, err
	}
	return &item{recs: []*rec{r}, bk: bucketKey(key), seq: r.seq, val: val}, nil
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
