// Package operations runs long operations of the API (replays, redrives) in
// the background, with progress that clients poll and a way to cancel them.
//
// Operations live in the bus (the bucket "operations", through a Store), not
// in the memory of a process: every replica reads them, cancels them, and
// continues one whose owner is gone. The replica that starts an operation
// owns it: it holds the operation's lease (bus.Leases, key "op.<id>") and
// checkpoints its progress and position to the store every CheckpointEvery
// or CheckpointEvents changes. When the owner stops, it hands the operation
// over (writes a last checkpoint and gives the lease up); when it dies, its
// lease expires after the lease TTL and another replica takes the operation
// over from its last checkpoint. What lies between the checkpoint and the
// point the dead owner reached is done again: operations are at least once.
// Finished operations are kept for Config.Keep.
//
// The operations service (internal/opsvc) registers the kinds and starts
// them on a Manager; the API asks it and reads the operations here.
package operations

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// ErrConflict: the operation cannot start in the bridge's current state
// (for example, the rule to replay does not run in this process). The
// API answers it with 409 conflict.
var ErrConflict = errors.New("ops: cannot start now")

// ErrNotFound: no operation has this id (never started, or forgotten
// after Config.Keep).
var ErrNotFound = errors.New("ops: no such operation")

// ErrStopped: the manager is stopping and starts nothing.
var ErrStopped = errors.New("ops: stopping")

// Conflict returns an error that is ErrConflict and reads as reason.
func Conflict(reason string) error { return conflictError(reason) }

type conflictError string

func (e conflictError) Error() string        { return string(e) }
func (e conflictError) Is(target error) bool { return target == ErrConflict }

// States of an operation.
const (
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// View is an operation as the API shows it.
type View struct {
	ID       string           `json:"id"`
	Kind     string           `json:"kind"`
	State    string           `json:"state"`
	Params   any              `json:"params,omitempty"`
	Progress map[string]int64 `json:"progress"`
	Error    string           `json:"error,omitempty"`
	// Owner is the instance running the operation ("" while none does).
	Owner string `json:"owner,omitempty"`
	// CancelRequested: a cancel was asked and the owner has not yet
	// stopped.
	CancelRequested bool       `json:"cancel_requested,omitempty"`
	Started         time.Time  `json:"started"`
	Updated         time.Time  `json:"updated"`
	Finished        *time.Time `json:"finished,omitempty"`
}

func viewOf(r bus.OpRecord) View {
	v := View{
		ID: r.ID, Kind: r.Kind, State: r.State, Progress: maps.Clone(r.Progress), Error: r.Error,
		Owner: r.Owner, CancelRequested: r.CancelRequested && r.State == Running, Started: r.Started, Updated: r.Updated,
	}
	if len(r.Params) > 0 {
		v.Params = r.Params
	}
	if v.Progress == nil {
		v.Progress = map[string]int64{}
	}
	if !r.Finished.IsZero() {
		f := r.Finished
		v.Finished = &f
	}
	return v
}

// stopReason is why a running operation stops before its end.
type stopReason int

const (
	notStopped stopReason = iota
	byUser                // cancelled: it ends cancelled
	leaseLost             // another replica owns it now: leave it alone
	handOver              // this replica stops: hand it over
)

// Op is an operation running in this process, as its run function sees
// it. Safe for concurrent use.
type Op struct {
	id      string
	params  []byte
	mu      sync.Mutex
	rec     bus.OpRecord // the record as the owner sees it; Revision is the last written
	dirty   bool         // rec changed since the last checkpoint
	changes int          // changes since the last checkpoint
	resumed uint64       // rec.Checkpoint when this process took it
	why     stopReason
	kick    chan struct{} // asks for a checkpoint now
	every   int           // changes that call for a checkpoint
	cancel  func()
	done    chan struct{}
}

// ID returns the operation's id.
func (o *Op) ID() string { return o.id }

// Params decodes the operation's parameters into v.
func (o *Op) Params(v any) error {
	if err := json.Unmarshal(o.params, v); err != nil {
		return fmt.Errorf("ops: %s: params: %w", o.id, err)
	}
	return nil
}

// Resume is the checkpoint this process took the operation at: where the
// run continues (0: from the start).
func (o *Op) Resume() uint64 { return o.resumed }

// Bound is the bound fixed by an earlier run (0: none yet).
func (o *Op) Bound() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rec.Bound
}

// SetBound fixes the last sequence the operation looks at, so that a
// resumed run stops at the same place.
func (o *Op) SetBound(seq uint64) {
	o.mu.Lock()
	if seq != o.rec.Bound {
		o.rec.Bound = seq
		o.changed()
	}
	o.mu.Unlock()
}

// SetCheckpoint records where a new owner would resume: every position
// before seq is done for sure.
func (o *Op) SetCheckpoint(seq uint64) {
	o.mu.Lock()
	if seq != o.rec.Checkpoint {
		o.rec.Checkpoint = seq
		o.changed()
	}
	o.mu.Unlock()
}

// Add adds delta to a progress counter.
func (o *Op) Add(name string, delta int64) {
	o.mu.Lock()
	o.rec.Progress[name] += delta
	o.changed()
	o.mu.Unlock()
}

// Set sets a progress counter.
func (o *Op) Set(name string, v int64) {
	o.mu.Lock()
	if o.rec.Progress[name] != v {
		o.rec.Progress[name] = v
		o.changed()
	}
	o.mu.Unlock()
}

// Counter returns a progress counter: a resumed run continues from it.
func (o *Op) Counter(name string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rec.Progress[name]
}

// changed marks the record for the next checkpoint, and asks for one
// when enough changes piled up. o.mu is held.
func (o *Op) changed() {
	o.dirty = true
	o.changes++
	if o.every > 0 && o.changes >= o.every {
		select {
		case o.kick <- struct{}{}:
		default:
		}
	}
}

// snapshot returns a copy of the record to write, and marks it clean.
func (o *Op) snapshot() bus.OpRecord {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rec
	r.Progress = maps.Clone(o.rec.Progress)
	o.dirty, o.changes = false, 0
	return r
}

// View returns a snapshot as the API shows it.
func (o *Op) View() View {
	o.mu.Lock()
	defer o.mu.Unlock()
	return viewOf(o.rec)
}

// Done is closed when the operation ended in this process (finished,
// handed over, or lost to another replica).
func (o *Op) Done() <-chan struct{} { return o.done }

func (o *Op) stop(why stopReason) {
	o.mu.Lock()
	if o.why == notStopped {
		o.why = why
	}
	o.mu.Unlock()
	o.cancel()
}

func (o *Op) reason() stopReason {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.why
}
