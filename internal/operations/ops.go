// Package operations runs long operations of the API (replays, redrives) in the
// background, with progress that clients poll and a way to cancel them.
// Operations live in the memory of the process that runs them.
// The operations service (internal/opsvc) starts them on a Manager; the
// API asks it and reads the operations here.
package operations

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrConflict: the operation cannot start in the bridge's current state
// (for example, the rule to replay does not run in this process). The
// API answers it with 409 conflict.
var ErrConflict = errors.New("ops: cannot start now")

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

// Op is one operation.
type Op struct {
	mu       sync.Mutex
	id       string
	kind     string
	params   any
	state    string
	counts   map[string]int64
	err      string
	started  time.Time
	finished time.Time
	cancel   context.CancelFunc
	done     chan struct{}
}

// View is an operation as the API shows it.
type View struct {
	ID       string           `json:"id"`
	Kind     string           `json:"kind"`
	State    string           `json:"state"`
	Params   any              `json:"params,omitempty"`
	Progress map[string]int64 `json:"progress"`
	Error    string           `json:"error,omitempty"`
	Started  time.Time        `json:"started"`
	Finished *time.Time       `json:"finished,omitempty"`
}

// Add adds delta to a progress counter.
func (o *Op) Add(name string, delta int64) {
	o.mu.Lock()
	o.counts[name] += delta
	o.mu.Unlock()
}

// Set sets a progress counter.
func (o *Op) Set(name string, v int64) {
	o.mu.Lock()
	o.counts[name] = v
	o.mu.Unlock()
}

// ID returns the operation's id.
func (o *Op) ID() string { return o.id }

// Done is closed when the operation ends.
func (o *Op) Done() <-chan struct{} { return o.done }

// View returns a snapshot.
func (o *Op) View() View {
	o.mu.Lock()
	defer o.mu.Unlock()
	v := View{ID: o.id, Kind: o.kind, State: o.state, Params: o.params, Progress: map[string]int64{}, Error: o.err, Started: o.started}
	for k, n := range o.counts {
		v.Progress[k] = n
	}
	if !o.finished.IsZero() {
		f := o.finished
		v.Finished = &f
	}
	return v
}

// Manager runs operations. Safe for concurrent use.
type Manager struct {
	mu   sync.Mutex
	ops  map[string]*Op
	next int
	keep int
}

// NewManager returns a manager that remembers the last 200 finished
// operations.
func NewManager() *Manager { return &Manager{ops: map[string]*Op{}, keep: 200} }

// Start runs fn in the background as a new operation of kind. counters are
// created at zero so that clients see them from the start.
func (m *Manager) Start(kind string, params any, counters []string, fn func(ctx context.Context, op *Op) error) *Op {
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	m.next++
	op := &Op{
		id: kind + "-" + strconv.FormatInt(time.Now().Unix(), 36) + "-" + strconv.Itoa(m.next), kind: kind, params: params,
		state: Running, counts: map[string]int64{}, started: time.Now().UTC(), cancel: cancel, done: make(chan struct{}),
	}
	for _, c := range counters {
		op.counts[c] = 0
	}
	m.ops[op.id] = op
	m.gc()
	m.mu.Unlock()
	go func() {
		defer close(op.done)
		err := fn(ctx, op)
		op.mu.Lock()
		defer op.mu.Unlock()
		op.finished = time.Now().UTC()
		switch {
		case errors.Is(err, context.Canceled):
			op.state = Cancelled
		case err != nil:
			op.state, op.err = Failed, err.Error()
		default:
			op.state = Succeeded
		}
	}()
	return op
}

// gc forgets the oldest finished operations beyond keep. m.mu is held.
func (m *Manager) gc() {
	var finished []*Op
	for _, o := range m.ops {
		if o.View().State != Running {
			finished = append(finished, o)
		}
	}
	if len(finished) <= m.keep {
		return
	}
	sort.Slice(finished, func(i, j int) bool { return finished[i].started.Before(finished[j].started) })
	for _, o := range finished[:len(finished)-m.keep] {
		delete(m.ops, o.id)
	}
}

// Get returns an operation.
func (m *Manager) Get(id string) (*Op, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.ops[id]
	return o, ok
}

// List returns the operations of a kind, newest first.
func (m *Manager) List(kind string) []View {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []View
	for _, o := range m.ops {
		if o.kind == kind {
			out = append(out, o.View())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out
}

// Cancel stops a running operation.
func (m *Manager) Cancel(id string) bool {
	o, ok := m.Get(id)
	if !ok {
		return false
	}
	o.cancel()
	<-o.done
	return true
}

// CancelAll stops every running operation (at shutdown).
func (m *Manager) CancelAll() {
	m.mu.Lock()
	all := make([]*Op, 0, len(m.ops))
	for _, o := range m.ops {
		all = append(all, o)
	}
	m.mu.Unlock()
	for _, o := range all {
		o.cancel()
		<-o.done
	}
}
