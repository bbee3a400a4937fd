package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Archived is one event read from the EVENTS archive.
type Archived struct {
	// Seq is its sequence in EVENTS.
	Seq uint64
	// Stored is when it was stored.
	Stored time.Time
	// Source is the source resource that ingested it (Eb-Source).
	Source string
	// Key is its dedup key (see EventKey).
	Key string
	// Ingested is the time it was first stored, as written by the bus.
	Ingested time.Time
	// Data is the event in the CloudEvents JSON format (see DecodeEvent).
	Data []byte
}

// Scan says which part of the archive to read.
type Scan struct {
	// Subjects filter the events (AllEvents when empty; see EventFilter,
	// SourceEvents).
	Subjects []string
	// FromSeq, when set, is the first sequence read; otherwise FromTime,
	// when set, is the first time; otherwise the archive is read from
	// its start.
	FromSeq  uint64
	FromTime time.Time
	// Batch is how many events one fetch asks for (200 when 0), and
	// Wait how long it waits for them (1s when 0).
	Batch int
	Wait  time.Duration
}

// ErrStopScan, returned by a Scan callback, ends the scan without error.
var ErrStopScan = errors.New("stop scan")

// Archive reads the EVENTS stream.
type Archive struct {
	js jetstream.JetStream
	nc *nats.Conn
	n  names
}

// Archive returns the bus's EVENTS archive.
func (b *Bus) Archive() *Archive { return &Archive{js: b.js, nc: b.nc, n: b.n} }

// Scan calls fn, oldest first, for each archived event that sc selects and
// that was stored before the scan began, until fn returns an error (which
// Scan returns, but for ErrStopScan) or the events are all read.
func (a *Archive) Scan(ctx context.Context, sc Scan, fn func(*Archived) error) error {
	s, err := a.js.Stream(ctx, a.n.stream(StreamEvents))
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	end := info.State.LastSeq // events stored after the scan began are not part of it
	if end == 0 || sc.FromSeq > end {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: a.n.subjects(sc.Subjects)}
	if len(cfg.FilterSubjects) == 0 {
		cfg.FilterSubjects = []string{a.n.subject(AllEvents)}
	}
	switch {
	case sc.FromSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, sc.FromSeq
	case !sc.FromTime.IsZero():
		from := sc.FromTime
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &from
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	batchSize, wait := sc.Batch, sc.Wait
	if batchSize <= 0 {
		batchSize = 200
	}
	if wait <= 0 {
		wait = time.Second
	}
	for {
		batch, err := cons.Fetch(batchSize, jetstream.FetchMaxWait(wait))
		if err != nil {
			return err
		}
		got := 0
		stop, ferr := false, error(nil)
		for msg := range batch.Messages() {
			got++
			if stop {
				continue // drain the fetch so that it ends
			}
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if seq > end {
				stop = true
				continue
			}
			h := msg.Headers()
			if err := fn(&Archived{
				Seq: seq, Stored: meta.Timestamp, Source: h.Get(HdrSource), Key: EventKey(h),
				Ingested: parseTime(h.Get(HdrIngested)), Data: msg.Data(),
			}); err != nil {
				stop = true
				if !errors.Is(err, ErrStopScan) {
					ferr = err
				}
				continue
			}
			stop = seq == end
		}
		if stop {
			return ferr
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if got == 0 {
			return nil // nothing after the start, or caught up
		}
	}
}

// Bounds returns the first and last sequences of the archive (0, 0 when
// empty).
func (a *Archive) Bounds(ctx context.Context) (first, last uint64, err error) {
	s, err := a.js.Stream(ctx, a.n.stream(StreamEvents))
	if err != nil {
		return 0, 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	if info.State.LastSeq == 0 {
		return 0, 0, nil
	}
	return max(info.State.FirstSeq, 1), info.State.LastSeq, nil
}

// Window calls fn, oldest first, for the events of subject with sequences
// lo..hi, given that above events of subject lie after hi (as a previous
// Window returned). It returns the number of events of subject from lo to
// the end of the archive. JetStream reads only forward; windows let a
// caller walk the archive back from its end, and the counts let it skip a
// window without events at the cost of one request.
func (a *Archive) Window(ctx context.Context, subject string, lo, hi, above uint64, fn func(*Archived)) (uint64, error) {
	s, err := a.js.Stream(ctx, a.n.stream(StreamEvents))
	if err != nil {
		return 0, err
	}
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubjects: []string{a.n.subject(subject)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: lo,
		AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: time.Minute, MemoryStorage: true,
	})
	if err != nil {
		return 0, err
	}
	ci := cons.CachedInfo()
	defer func() { _ = s.DeleteConsumer(context.WithoutCancel(ctx), ci.Name) }()
	pending := ci.NumPending
	if lo > hi {
		return pending, nil
	}
	want := uint64(0)
	if pending > above {
		want = pending - above
	}
	for read := uint64(0); read < want; {
		batch, err := cons.Fetch(int(min(want-read, 500)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return 0, err
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			read++
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if seq > hi {
				read = want // events came in after the count: the window is read
				continue
			}
			h := msg.Headers()
			fn(&Archived{
				Seq: seq, Stored: meta.Timestamp, Source: h.Get(HdrSource), Key: EventKey(h),
				Ingested: parseTime(h.Get(HdrIngested)), Data: msg.Data(),
			})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return 0, err
		}
		if got == 0 {
			break // events were removed meanwhile
		}
	}
	return pending, nil
}

// Live is an event as it is stored, handed to a Watch.
type Live struct {
	// Key is the event's dedup key.
	Key string
	// Data is the event in the CloudEvents JSON format (see DecodeEvent).
	Data []byte
}

// Watch hands out the events stored on a subject of EVENTS from now on,
// at most once and without acknowledgement: a reader that falls more than
// its buffer behind loses events (Dropped counts them).
type Watch struct {
	C    <-chan Live
	sub  *nats.Subscription
	done chan struct{}
}

// Watch starts a Watch of subject (see EventFilter) with room for buf
// events. Close it when done.
func (a *Archive) Watch(subject string, buf int) (*Watch, error) {
	if a.nc == nil {
		return nil, errors.New("bus: live events are not available")
	}
	ch := make(chan Live, buf)
	w := &Watch{C: ch, done: make(chan struct{})}
	sub, err := a.nc.Subscribe(a.n.subject(subject), func(m *nats.Msg) {
		select {
		case ch <- Live{Key: EventKey(m.Header), Data: m.Data}:
		case <-w.done:
		}
	})
	if err != nil {
		return nil, err
	}
	// Past buf waiting in the channel and buf more in the client, events
	// are dropped rather than held.
	if err := sub.SetPendingLimits(max(buf, 1), -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	w.sub = sub
	return w, nil
}

// Dropped returns the number of events lost so far.
func (w *Watch) Dropped() (int, error) { return w.sub.Dropped() }

// Close stops the watch.
func (w *Watch) Close() {
	close(w.done)
	_ = w.sub.Unsubscribe()
}
