package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoLetter is returned for a dead letter that does not exist (or
// belongs to another rule), and by DeadLetters.Next past the last one.
var ErrNoLetter = errors.New("dead letter not found")

// StoredLetter is a dead letter as stored in the DLQ stream.
type StoredLetter struct {
	DeadLetter
	// Seq is its sequence in the DLQ stream, its id.
	Seq uint64
	// Time is when it was stored.
	Time time.Time
}

// DeadLetters reads and changes the DLQ stream.
type DeadLetters struct {
	js jetstream.JetStream
	n  names
}

// DeadLetters returns the bus's DLQ.
func (b *Bus) DeadLetters() *DeadLetters { return &DeadLetters{js: b.js, n: b.n} }

func (d *DeadLetters) stream(ctx context.Context) (jetstream.Stream, error) {
	return d.js.Stream(ctx, d.n.stream(StreamDLQ))
}

// Next returns the first letter of rule (and of target, when not empty)
// whose sequence is at least from; ErrNoLetter when there is none.
func (d *DeadLetters) Next(ctx context.Context, rule, target string, from uint64) (*StoredLetter, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMsg(ctx, max(from, 1), jetstream.WithGetMsgSubject(d.n.subject(DLQFilter(rule, target))))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, ErrNoLetter
	}
	if err != nil {
		return nil, fmt.Errorf("dlq: %w", err)
	}
	return stored(m), nil
}

// Get returns the letter seq of rule.
func (d *DeadLetters) Get(ctx context.Context, rule string, seq uint64) (*StoredLetter, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && !IsDLQSubjectOf(d.n.logical(m.Subject), rule)) {
		return nil, ErrNoLetter
	}
	if err != nil {
		return nil, err
	}
	return stored(m), nil
}

func stored(m *jetstream.RawStreamMsg) *StoredLetter {
	return &StoredLetter{DeadLetter: *DecodeDeadLetter(m.Header, m.Data), Seq: m.Sequence, Time: m.Time}
}

// LastSeq returns the sequence of the last letter stored (0: none yet).
func (d *DeadLetters) LastSeq(ctx context.Context) (uint64, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// Delete removes the letter seq.
func (d *DeadLetters) Delete(ctx context.Context, seq uint64) error {
	s, err := d.stream(ctx)
	if err != nil {
		return err
	}
	return s.DeleteMsg(ctx, seq)
}

// Redrive sends l back for delivery (to its route's RETRY subject, with
// no attempts made, due at once) and removes it from the DLQ. Sending it
// twice stores it once.
func (d *DeadLetters) Redrive(ctx context.Context, l *StoredLetter) error {
	m := l.Retry(l.Seq, time.Now()).Encode()
	m.Subject = d.n.subject(m.Subject)
	if _, err := d.js.PublishMsg(ctx, m); err != nil {
		return err
	}
	return d.Delete(ctx, l.Seq)
}

// Counts returns the number of letters of each route, by DLQ subject
// (see DLQSubject), for rule (every rule when rule is empty).
func (d *DeadLetters) Counts(ctx context.Context, rule string) (map[string]uint64, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	filter := AllDeadLetters
	if rule != "" {
		filter = DLQFilter(rule, "")
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(d.n.subject(filter)))
	if err != nil {
		return nil, err
	}
	if info.State.Subjects == nil {
		return map[string]uint64{}, nil
	}
	return d.n.logicalCounts(info.State.Subjects), nil
}

// Purge removes every letter of rule (of target, when not empty) and
// returns how many there were.
func (d *DeadLetters) Purge(ctx context.Context, rule, target string) (int, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return 0, err
	}
	filter := d.n.subject(DLQFilter(rule, target))
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(filter)); err != nil {
		return 0, err
	}
	return n, nil
}
