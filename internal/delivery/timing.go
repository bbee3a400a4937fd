package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
)

// Outcomes of the timing step, in eventbridge_deliveries_total.
const (
	// OutcomeDelayed: the event was held in RETRY until its due time
	// (delay or deliverat), without an attempt.
	OutcomeDelayed = "delayed"
	// OutcomeDuplicate: the rule's dedup dropped the event.
	OutcomeDuplicate = "duplicate"
)

// ExtDeliverAt is the extension that holds an event until a time (RFC
// 3339), within the rule's max_delay.
const ExtDeliverAt = "deliverat"

// holdMin is the shortest wait that is held in RETRY; a shorter one is
// waited out by the worker. It must exceed the slack with which the RETRY
// consumer hands out due messages (retryTask), so that a held message
// coming back is never held again.
const holdMin = 50 * time.Millisecond

// Timing is a route's dedup and delay (a rule's dedup, delay and
// max_delay). The zero value does neither and ignores deliverat.
type Timing struct {
	// Delay holds every event this long after its ingest.
	Delay time.Duration
	// MaxDelay caps the hold (Delay or deliverat) from ingest; 0 turns
	// holding off, deliverat included.
	MaxDelay time.Duration
	// Dedup, when set, drops the rule's duplicates.
	Dedup *Dedup
}

// Dedup drops events whose key was delivered inside the window. The
// entries live in the bus (bus.RuleDedup), so the window holds across
// restarts and across the bridges sharing a bus.
type Dedup struct {
	Key    *eventkey.Key
	Window time.Duration
	// Bucket is the ruledup bucket: a *bus.RuleDedup.
	Bucket DedupBucket
}

// DedupBucket is what Dedup needs of the ruledup bucket; *bus.RuleDedup
// has it.
type DedupBucket interface {
	Get(ctx context.Context, key string) (bus.Entry, error)
	Create(ctx context.Context, key string, value []byte) (uint64, error)
	Update(ctx context.Context, key string, value []byte, ifRevision uint64) (uint64, error)
}

var _ DedupBucket = (*bus.RuleDedup)(nil)

// dedupEntry is the value of a ruledup entry: the stored event that was
// let through for the key, by its (source, id) and when it was ingested
// (unix ns). A copy of the same (source, id) stored again later (sent
// again after the bus's dedup window) is another event with that key.
type dedupEntry struct {
	Source string `json:"s"`
	ID     string `json:"i"`
	At     int64  `json:"t"`
}

// ErrDedupContended is returned when a dedup entry kept changing under a
// claim; the event is handed out again.
var ErrDedupContended = errors.New("delivery: dedup entry changed while claiming it")

// Claim decides whether the event e, ingested at at, goes through on
// route (rule, target): true when its key is new inside the window, when
// the window of the key's entry has passed, or when the entry is this
// very stored event's (same source, id and ingest time: it was claimed
// before and is handed out again, after a crash say, so at-least-once
// holds; or it is replayed or redriven). err is a bus failure: the event
// is neither delivered nor dropped.
func (d *Dedup) Claim(ctx context.Context, rule, target string, e interface {
	Source() string
	ID() string
}, key string, at time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	k := rule + "." + target + "." + hex.EncodeToString(sum[:16])
	mine := dedupEntry{Source: e.Source(), ID: e.ID(), At: at.UnixNano()}
	val, err := json.Marshal(mine)
	if err != nil {
		return false, err
	}
	for range 4 {
		_, err := d.Bucket.Create(ctx, k, val)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, bus.ErrKeyExists) {
			return false, err
		}
		cur, err := d.Bucket.Get(ctx, k)
		if errors.Is(err, bus.ErrKeyNotFound) {
			continue // expired meanwhile
		}
		if err != nil {
			return false, err
		}
		var seen dedupEntry
		if json.Unmarshal(cur.Value, &seen) == nil {
			if seen == mine {
				return true, nil
			}
			if mine.At < seen.At+d.Window.Nanoseconds() {
				return false, nil
			}
		}
		// The entry's window has passed (the bucket keeps entries up to
		// the longest window of all rules): this event opens a new one.
		if _, err := d.Bucket.Update(ctx, k, val, cur.Revision); err == nil {
			return true, nil
		} else if !errors.Is(err, bus.ErrRevisionMismatch) {
			return false, err
		}
	}
	return false, ErrDedupContended
}

// beforeFirstAttempt runs before the first attempt of t: it holds t in
// RETRY until it is due (delay, deliverat), or drops it as a duplicate
// (dedup). It returns false when it settled t.
func (r *Route) beforeFirstAttempt(t *Task) bool {
	tm := &r.cfg.Timing
	if due, ok := r.due(t); ok {
		wait := time.Until(due)
		if wait > holdMin {
			r.hold(t, due)
			return false
		}
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-r.stopping:
				timer.Stop()
				t.Done(ErrStopped)
				return false
			}
		}
	}
	if tm.Dedup == nil {
		return true
	}
	key, ok, err := tm.Dedup.Key.Of(t.Event)
	if err != nil {
		r.cfg.Log.Debug("dedup key failed; delivering", "rule", r.cfg.Rule, "target", r.cfg.Target, "key", tm.Dedup.Key.String(), "err", err)
	}
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	pass, err := tm.Dedup.Claim(ctx, r.cfg.Rule, r.cfg.Target, t.Event, key, ingestTime(t))
	cancel()
	if err != nil {
		t.Done(r.write("ruledup", err))
		return false
	}
	if !pass {
		r.cfg.Metrics.RuleDuplicates.WithLabelValues(r.cfg.Rule, r.cfg.Target).Inc()
		t.Outcome = OutcomeDuplicate
		r.cfg.Log.Debug("duplicate dropped", "rule", r.cfg.Rule, "target", r.cfg.Target, "source", t.Event.Source(), "id", t.Event.ID())
		t.Done(nil)
		return false
	}
	return true
}

// ingestTime is when t was stored; a task without one (tests, tools) gets
// now, kept in the task so that a hold and the dedup agree with what is
// written to RETRY.
func ingestTime(t *Task) time.Time {
	if t.Ingested.IsZero() {
		t.Ingested = time.Now()
	}
	return t.Ingested
}

// due is when t may first be tried, when it must wait: the later of its
// ingest plus the rule's delay and its deliverat extension, capped at
// ingest plus max_delay. A deliverat that is not a time is ignored.
func (r *Route) due(t *Task) (time.Time, bool) {
	tm := &r.cfg.Timing
	if tm.MaxDelay <= 0 {
		return time.Time{}, false
	}
	v, has := ebevent.Extension(t.Event, ExtDeliverAt) // no copy of the extensions
	if tm.Delay <= 0 && !has {
		return time.Time{}, false
	}
	base := ingestTime(t)
	var due time.Time
	if tm.Delay > 0 {
		due = base.Add(tm.Delay)
	}
	if has {
		at, err := types.ToTime(v)
		if err != nil {
			r.cfg.Log.Debug("ignoring a deliverat that is not an RFC 3339 time", "rule", r.cfg.Rule, "id", t.Event.ID(), "err", err)
		} else if at.After(due) {
			due = at
		}
	}
	if due.IsZero() {
		return due, false
	}
	if limit := base.Add(tm.MaxDelay); due.After(limit) {
		due = limit
	}
	return due, true
}

// hold writes t to the route's RETRY subject due at due, without counting
// an attempt, and settles it. Its message id is made of the event and
// the route, so the hold written again for the same event (its WORK
// message handed out again after a crash) is stored once.
func (r *Route) hold(t *Task, due time.Time) {
	r.cfg.Metrics.Deliveries.WithLabelValues(r.cfg.Rule, r.cfg.Target, OutcomeDelayed).Inc()
	t.Outcome = OutcomeDelayed
	rec := &bus.RetryRecord{Delivery: r.record(t, t.Attempts, 0, nil), NotBefore: due}
	if t.orderKey != "" { // ordered: a mark, and no message id (see orderer)
		rec.Order = bus.OrderMark{Key: t.orderKey, Seq: t.Seq}
	} else if t.Key != "" {
		rec.MsgID = t.Key + ".h." + r.cfg.Rule + "." + r.cfg.Target
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err := r.write("RETRY", r.cfg.Bus.PutRetry(ctx, rec))
	cancel()
	if err == nil && !r.retryOpen.Load() && r.started.Load() {
		r.OpenRetries()
	}
	t.Done(err)
}

// CheckHorizon reports an error when a route may hold events (maxDelay)
// longer than the RETRY stream keeps messages (retryMaxAge, 0: for ever):
// they would be lost there.
func CheckHorizon(maxDelay, retryMaxAge time.Duration) error {
	if retryMaxAge > 0 && maxDelay >= retryMaxAge {
		return fmt.Errorf("max_delay %s must be shorter than the RETRY stream's max age %s, or held events would be dropped from it", maxDelay, retryMaxAge)
	}
	return nil
}
