// Package replay sends archived events again: it reads the EVENTS stream
// between two times, matches each event against one rule, and delivers
// the matches through the rule's routes with the extension replayed=true.
package replay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Extension is the attribute set on every replayed event.
const Extension = "replayed"

// Request is what to replay.
type Request struct {
	Rule string    `json:"rule"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Target limits the replay to one of the rule's targets.
	Target string `json:"target,omitempty"`
}

// Rules gives the replay a running rule.
type Rules interface {
	Rule(name string) (*resource.Rule, []*delivery.Route, bool)
}

// Counters of a replay's progress.
var Counters = []string{"scanned", "matched", "delivered", "retrying", "dead_lettered", "failed"}

// ErrNoRule: the rule does not run here.
var ErrNoRule = errors.New("no such rule")

// Run replays req, counting progress on op. It returns when every matched
// event has been handed to the rule's routes and each first attempt is
// settled (delivered, queued for retry, or dead-lettered). A run taken over
// from another replica starts at op.Resume(), the first event whose
// deliveries were not all settled: events between it and where the other
// run got to are replayed again (and counted again).
func Run(ctx context.Context, archive *bus.Archive, rules Rules, req Request, op *operations.Op) error {
	spec, routes, ok := rules.Rule(req.Rule)
	if !ok {
		return fmt.Errorf("%w %q", ErrNoRule, req.Rule)
	}
	if req.Target != "" {
		var only []*delivery.Route
		for _, rt := range routes {
			if _, t := rt.Key(); t == req.Target {
				only = append(only, rt)
			}
		}
		if len(only) == 0 {
			return fmt.Errorf("rule %q has no target %q", req.Rule, req.Target)
		}
		routes = only
	}
	f, err := filter.Compile(spec.Filter)
	if err != nil {
		return err
	}
	subjects := []string{bus.AllEvents}
	if len(spec.Sources) > 0 {
		subjects = subjects[:0]
		for _, s := range spec.Sources {
			subjects = append(subjects, bus.SourceEvents(s))
		}
	}
	var pending sync.WaitGroup
	defer pending.Wait()
	cp := &checkpoints{op: op}
	sc := bus.Scan{Subjects: subjects, FromTime: req.From}
	if from := op.Resume(); from > 0 {
		sc.FromSeq = from // taken over: continue at the owner's last checkpoint
	}
	return archive.Scan(ctx, sc, func(a *bus.Archived) error {
		if a.Stored.After(req.To) {
			return bus.ErrStopScan
		}
		op.Add("scanned", 1)
		ev, err := bus.DecodeEvent(a.Data)
		if err != nil || !f.Match(filter.NewInput(ev)) {
			cp.scanned(a.Seq)
			return nil
		}
		op.Add("matched", 1)
		ev.SetExtension(Extension, true)
		raw, err := ev.MarshalJSON()
		if err != nil {
			op.Add("failed", 1)
			cp.scanned(a.Seq)
			return nil
		}
		// The key names the archived event, not the count of matches, so
		// that a run taken over keys an event the same way.
		key := "rp" + op.ID() + "." + strconv.FormatUint(a.Seq, 10) + "." + a.Key
		s := cp.submit(a.Seq, len(routes))
		for _, rt := range routes {
			pending.Add(1)
			t := &delivery.Task{Event: ev, Raw: raw, Key: key, Ingested: a.Ingested}
			t.Done = func(err error) {
				defer pending.Done()
				defer cp.settled(s)
				switch {
				case err != nil:
					op.Add("failed", 1)
				case t.Outcome == telemetry.OutcomeDelivered:
					op.Add("delivered", 1)
				case t.Outcome == telemetry.OutcomeDeadLettered:
					op.Add("dead_lettered", 1)
				default:
					op.Add("retrying", 1)
				}
			}
			if err := rt.Submit(ctx, t); err != nil {
				pending.Done()
				return err
			}
		}
		return nil
	})
}

// checkpoints tracks the events handed to routes and not yet settled, to
// checkpoint the first archive sequence not settled for sure: events
// before it need not be replayed again by a run taken over.
type checkpoints struct {
	op    *operations.Op
	mu    sync.Mutex
	queue []*slot // in order of sequence
	next  uint64  // the sequence after the last one scanned
}

type slot struct {
	seq  uint64
	left int // deliveries not yet settled
}

// scanned notes that seq needs nothing more.
func (c *checkpoints) scanned(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = seq + 1
	c.publish()
}

// submit notes that seq is handed to n routes.
func (c *checkpoints) submit(seq uint64, n int) *slot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &slot{seq: seq, left: n}
	c.queue = append(c.queue, s)
	c.next = seq + 1
	return s
}

// settled notes that one delivery of s is settled.
func (c *checkpoints) settled(s *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.left--
	for len(c.queue) > 0 && c.queue[0].left <= 0 {
		c.queue[0] = nil
		c.queue = c.queue[1:]
	}
	c.publish()
}

// publish sets the checkpoint. c.mu is held.
func (c *checkpoints) publish() {
	if len(c.queue) > 0 {
		c.op.SetCheckpoint(c.queue[0].seq)
		return
	}
	c.op.SetCheckpoint(c.next)
}
