// Package deadletter reads and redrives the DLQ stream: deliveries that
// failed for good, each with the event and why.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// ErrNotFound is returned for a dead letter that does not exist (or belongs
// to another rule).
var ErrNotFound = errors.New("dead letter not found")

// Letter is one dead letter.
type Letter struct {
	// ID is its sequence in the DLQ stream.
	ID         uint64         `json:"id"`
	Rule       string         `json:"rule"`
	Target     string         `json:"target"`
	Reason     string         `json:"reason"`
	Attempts   int            `json:"attempts"`
	LastStatus int            `json:"last_status,omitempty"`
	Error      string         `json:"error,omitempty"`
	FirstTry   *time.Time     `json:"first_try,omitempty"`
	Time       time.Time      `json:"time"`
	Event      map[string]any `json:"event"`
}

// Filter selects dead letters of a rule.
type Filter struct {
	Target string `json:"target,omitempty"`
	// Type, Source: event attributes that must match exactly.
	Type   string `json:"type,omitempty"`
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
	// IDs selects these letters only.
	IDs []uint64 `json:"ids,omitempty"`
}

func (f Filter) subject(rule string) string { return bus.DLQFilter(rule, f.Target) }

func (f Filter) match(l *Letter) bool {
	if len(f.IDs) > 0 {
		found := false
		for _, id := range f.IDs {
			found = found || id == l.ID
		}
		if !found {
			return false
		}
	}
	return (f.Reason == "" || f.Reason == l.Reason) &&
		(f.Type == "" || f.Type == l.Event["type"]) &&
		(f.Source == "" || f.Source == l.Event["source"])
}

// DLQ reads and changes the dead-letter stream.
type DLQ struct {
	js jetstream.JetStream
}

// New returns a DLQ on the bridge's bus.
func New(js jetstream.JetStream) *DLQ { return &DLQ{js: js} }

// List returns up to limit letters of rule (after sequence `after`) that
// match f, and the sequence to continue from (0 at the end).
func (d *DLQ) List(ctx context.Context, rule string, f Filter, after uint64, limit int) ([]*Letter, uint64, error) {
	s, err := d.js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return nil, 0, err
	}
	out := []*Letter{}
	seq := after + 1
	for {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f.subject(rule)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, 0, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("dlq: %w", err)
		}
		seq = m.Sequence + 1
		l, err := decode(m)
		if err != nil || !f.match(l) {
			continue
		}
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, l)
	}
}

// Get returns one letter of rule.
func (d *DLQ) Get(ctx context.Context, rule string, id uint64) (*Letter, error) {
	m, err := d.raw(ctx, rule, id)
	if err != nil {
		return nil, err
	}
	return decode(m)
}

func (d *DLQ) raw(ctx context.Context, rule string, id uint64) (*jetstream.RawStreamMsg, error) {
	s, err := d.js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && !bus.IsDLQSubjectOf(m.Subject, rule)) {
		return nil, ErrNotFound
	}
	return m, err
}

func decode(m *jetstream.RawStreamMsg) (*Letter, error) {
	ev, err := bus.DecodeEvent(m.Data)
	if err != nil {
		return nil, err
	}
	d := bus.DecodeDeadLetter(m.Header, m.Data)
	l := &Letter{
		ID: m.Sequence, Rule: d.Rule, Target: d.Target, Reason: d.Reason, Attempts: d.Attempts,
		LastStatus: d.LastStatus, Error: d.LastError, Time: m.Time, Event: ebevent.Form(ev),
	}
	if !d.FirstTry.IsZero() {
		l.FirstTry = &d.FirstTry
	}
	return l, nil
}

// Progress counts what a redrive or purge did.
type Progress struct {
	Matched  int    `json:"matched"`
	Done     int    `json:"done"`
	Failed   int    `json:"failed"`
	LastErr  string `json:"last_error,omitempty"`
	Finished bool   `json:"finished"`
}

// Redrive sends the selected letters of rule back for delivery: each goes
// to its route's RETRY subject with its attempts reset (due at once), and
// leaves the DLQ. progress is called after each letter.
func (d *DLQ) Redrive(ctx context.Context, rule string, f Filter, progress func(Progress)) (Progress, error) {
	return d.each(ctx, rule, f, progress, func(s jetstream.Stream, m *jetstream.RawStreamMsg) error {
		rec := bus.DecodeDeadLetter(m.Header, m.Data)
		rec.Rule = rule // the letter's subject is the rule's
		if _, err := d.js.PublishMsg(ctx, rec.Retry(m.Sequence, time.Now()).Encode()); err != nil {
			return err
		}
		return s.DeleteMsg(ctx, m.Sequence)
	})
}

// Purge deletes the selected letters of rule.
func (d *DLQ) Purge(ctx context.Context, rule string, f Filter) (Progress, error) {
	if len(f.IDs) == 0 && f.Type == "" && f.Source == "" && f.Reason == "" {
		s, err := d.js.Stream(ctx, bus.StreamDLQ)
		if err != nil {
			return Progress{}, err
		}
		before, err := d.count(ctx, s, f.subject(rule))
		if err != nil {
			return Progress{}, err
		}
		if err := s.Purge(ctx, jetstream.WithPurgeSubject(f.subject(rule))); err != nil {
			return Progress{}, err
		}
		return Progress{Matched: before, Done: before, Finished: true}, nil
	}
	return d.each(ctx, rule, f, nil, func(s jetstream.Stream, m *jetstream.RawStreamMsg) error {
		return s.DeleteMsg(ctx, m.Sequence)
	})
}

func (d *DLQ) count(ctx context.Context, s jetstream.Stream, subject string) (int, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n, nil
}

func (d *DLQ) each(ctx context.Context, rule string, f Filter, progress func(Progress), do func(jetstream.Stream, *jetstream.RawStreamMsg) error) (Progress, error) {
	s, err := d.js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return Progress{}, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return Progress{}, err
	}
	last := info.State.LastSeq // letters that arrive meanwhile are left alone
	var p Progress
	seq := uint64(1)
	for seq <= last {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f.subject(rule)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return p, err
		}
		seq = m.Sequence + 1
		if m.Sequence > last {
			break
		}
		l, err := decode(m)
		if err != nil || !f.match(l) {
			continue
		}
		p.Matched++
		if err := do(s, m); err != nil {
			p.Failed++
			p.LastErr = err.Error()
		} else {
			p.Done++
		}
		if progress != nil {
			progress(p)
		}
	}
	p.Finished = true
	return p, nil
}
