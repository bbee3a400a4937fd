package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// refuseUnknownParams is a 400 naming every query parameter of r that is
// not in known.
func refuseUnknownParams(r *http.Request, known map[string]bool) *problem.Problem {
	var unknown []string
	for k := range r.URL.Query() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	p := problem.New(problem.InvalidRequest, "unknown query parameter "+strings.Join(unknown, ", "))
	for _, k := range unknown {
		p.WithErrors(problem.FieldError{Field: k, Reason: "unknown query parameter"})
	}
	return p
}

// readArchiveDesc reads up to limit events matching eq, newest first,
// with sequences below before (0: from the newest); the next page token is
// the last sequence returned. JetStream reads only forward, so the archive
// is read in windows walked back from the end; the consumers' pending
// counts say how many candidates a window holds, so a window without any
// costs one request and a window is not waited on once they are read.
func (a *API) readArchiveDesc(ctx context.Context, eq eventQuery, before uint64, limit int) ([]ArchivedEvent, uint64, error) {
	s, err := a.deps.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		return nil, 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := []ArchivedEvent{}
	first, hi := max(info.State.FirstSeq, 1), info.State.LastSeq
	if before > 0 {
		hi = min(hi, before-1)
	}
	if hi < first {
		return out, 0, nil
	}
	// Candidates after hi, so a window's own count is its pending minus this.
	_, above, _, err := scanWindow(ctx, s, eq, hi+1, hi, 0)
	if err != nil {
		return nil, 0, err
	}
	window := uint64(max(limit*4, 256))
	for {
		lo := first
		if hi-first >= window {
			lo = hi - window + 1
		}
		items, pending, older, err := scanWindow(ctx, s, eq, lo, hi, above)
		if err != nil {
			return nil, 0, err
		}
		for i := len(items) - 1; i >= 0; i-- {
			if len(out) == limit {
				return out, out[limit-1].Seq, nil
			}
			out = append(out, items[i])
		}
		if older || lo == first {
			return out, 0, nil
		}
		hi, above = lo-1, pending
	}
}

// scanWindow reads, oldest first, the events matching eq with sequences
// lo..hi, given that above candidates of eq's subject lie after hi. It
// returns the candidates from lo to the end of the archive, and whether it
// met an event stored before eq.from (so older windows need no reading).
func scanWindow(ctx context.Context, s jetstream.Stream, eq eventQuery, lo, hi, above uint64) ([]ArchivedEvent, uint64, bool, error) {
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubjects: []string{eq.subject()},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: lo,
		AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: time.Minute, MemoryStorage: true,
	})
	if err != nil {
		return nil, 0, false, err
	}
	ci := cons.CachedInfo()
	defer func() { _ = s.DeleteConsumer(context.WithoutCancel(ctx), ci.Name) }()
	pending := ci.NumPending
	var items []ArchivedEvent
	older := false
	if lo > hi {
		return nil, pending, false, nil
	}
	want := uint64(0)
	if pending > above {
		want = pending - above
	}
	for read := uint64(0); read < want; {
		batch, err := cons.Fetch(int(min(want-read, 500)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, 0, false, err
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
			switch {
			case seq > hi:
				read = want // events came in after the count: the window is read
				continue
			case !eq.from.IsZero() && meta.Timestamp.Before(eq.from):
				older = true
				continue
			case !eq.to.IsZero() && meta.Timestamp.After(eq.to):
				continue
			}
			ev, err := bus.DecodeEvent(msg.Data())
			if err != nil || (eq.source != "" && ev.Source() != eq.source) || (eq.typ != "" && ev.Type() != eq.typ) {
				continue
			}
			items = append(items, ArchivedEvent{Seq: seq, Stored: meta.Timestamp.UTC(), SourceName: msg.Headers().Get(bus.HdrSource), Event: ebevent.Form(ev)})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, 0, false, err
		}
		if got == 0 {
			break // events were removed meanwhile
		}
	}
	return items, pending, older, nil
}
