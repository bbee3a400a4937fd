// Package deadletter reads and redrives the DLQ stream: deliveries that
// failed for good, each with the event and why.
package deadletter

import (
	"context"
	"errors"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// ErrNotFound is returned for a dead letter that does not exist (or belongs
// to another rule).
var ErrNotFound = bus.ErrNoLetter

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
	letters *bus.DeadLetters
	// OnRedrive, when set, is told of each letter redriven to the RETRY
	// subject of (rule, target): the route opens its RETRY consumer.
	OnRedrive func(rule, target string)
}

// New returns a DLQ on the bridge's bus (see bus.Bus.DeadLetters).
func New(letters *bus.DeadLetters) *DLQ { return &DLQ{letters: letters} }

// List returns up to limit letters of rule (after sequence `after`) that
// match f, and the sequence to continue from (0 at the end).
func (d *DLQ) List(ctx context.Context, rule string, f Filter, after uint64, limit int) ([]*Letter, uint64, error) {
	out := []*Letter{}
	seq := after + 1
	for {
		m, err := d.letters.Next(ctx, rule, f.Target, seq)
		if errors.Is(err, bus.ErrNoLetter) {
			return out, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		seq = m.Seq + 1
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
	m, err := d.letters.Get(ctx, rule, id)
	if err != nil {
		return nil, err
	}
	return decode(m)
}

func decode(m *bus.StoredLetter) (*Letter, error) {
	ev, err := bus.DecodeEvent(m.Event)
	if err != nil {
		return nil, err
	}
	l := &Letter{
		ID: m.Seq, Rule: m.Rule, Target: m.Target, Reason: m.Reason, Attempts: m.Attempts,
		LastStatus: m.LastStatus, Error: m.LastError, Time: m.Time, Event: ebevent.Form(ev),
	}
	if !m.FirstTry.IsZero() {
		l.FirstTry = &m.FirstTry
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
	// Next is the DLQ sequence to resume from: every letter before it
	// was looked at. Last is the last sequence looked at, fixed when the
	// walk began.
	Next uint64 `json:"-"`
	Last uint64 `json:"-"`
}

// Span is the part of the DLQ a redrive walks: from From (0: the start) to
// Last (0: the last letter stored when it begins). A redrive taken over by
// another replica resumes with the Next and Last of its last progress.
type Span struct {
	From, Last uint64
}

// Redrive sends the selected letters of rule back for delivery: each goes
// to its route's RETRY subject with its attempts reset (due at once), and
// leaves the DLQ. progress is called after each letter.
func (d *DLQ) Redrive(ctx context.Context, rule string, f Filter, progress func(Progress)) (Progress, error) {
	return d.RedriveSpan(ctx, rule, f, Span{}, progress)
}

// RedriveSpan is Redrive over a span of the DLQ. progress is also called
// once before the first letter, with Last fixed.
func (d *DLQ) RedriveSpan(ctx context.Context, rule string, f Filter, sp Span, progress func(Progress)) (Progress, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	return d.each(ctx, rule, f, sp, progress, func(m *bus.StoredLetter) error {
		m.Rule = rule // the letter's subject is the rule's
		if err := d.letters.Redrive(ctx, m); err != nil {
			return err
		}
		if d.OnRedrive != nil {
			d.OnRedrive(m.Rule, m.Target)
		}
		return nil
	})
}

// Purge deletes the selected letters of rule.
func (d *DLQ) Purge(ctx context.Context, rule string, f Filter) (Progress, error) {
	if len(f.IDs) == 0 && f.Type == "" && f.Source == "" && f.Reason == "" {
		n, err := d.letters.Purge(ctx, rule, f.Target)
		if err != nil {
			return Progress{}, err
		}
		return Progress{Matched: n, Done: n, Finished: true}, nil
	}
	return d.each(ctx, rule, f, Span{}, nil, func(m *bus.StoredLetter) error {
		return d.letters.Delete(ctx, m.Seq)
	})
}

func (d *DLQ) each(ctx context.Context, rule string, f Filter, sp Span, progress func(Progress), do func(*bus.StoredLetter) error) (Progress, error) {
	last := sp.Last
	if last == 0 {
		var err error
		if last, err = d.letters.LastSeq(ctx); err != nil { // letters that arrive meanwhile are left alone
			return Progress{}, err
		}
	}
	seq := max(sp.From, 1)
	p := Progress{Next: seq, Last: last}
	if progress != nil {
		progress(p)
	}
	for seq <= last {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		m, err := d.letters.Next(ctx, rule, f.Target, seq)
		if errors.Is(err, bus.ErrNoLetter) {
			break
		}
		if err != nil {
			return p, err
		}
		seq = m.Seq + 1
		if m.Seq > last {
			break
		}
		l, err := decode(m)
		if err != nil || !f.match(l) {
			continue
		}
		p.Matched++
		if err := do(m); err != nil {
			p.Failed++
			p.LastErr = err.Error()
		} else {
			p.Done++
		}
		p.Next = seq
		if progress != nil {
			progress(p)
		}
	}
	p.Finished = true
	return p, nil
}
