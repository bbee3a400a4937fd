package bustest

import (
	"context"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
)

// Target is a connector.Target that records what it is sent and answers
// what its script says. Safe for concurrent use.
type Target struct {
	component.Tracker

	mu      sync.Mutex
	script  func(n int, e *ce.Event) error
	sent    []*ce.Event // every attempt, in order
	ok      []*ce.Event // the attempts answered nil
	started int
	stopped int
	gate    chan struct{}
	onStart func()
	onStop  func()
}

// NewTarget returns a target that delivers everything.
func NewTarget() *Target {
	t := &Target{}
	t.Set(component.New, nil)
	return t
}

// Script makes Send answer f(n, e) for its n-th call (from 1); nil
// delivers.
func (t *Target) Script(f func(n int, e *ce.Event) error) {
	t.mu.Lock()
	t.script = f
	t.mu.Unlock()
}

// Fail makes every Send answer err (nil: deliver again).
func (t *Target) Fail(err error) {
	t.Script(func(int, *ce.Event) error { return err })
}

// Block makes Send wait until Unblock (or its context ends).
func (t *Target) Block() {
	t.mu.Lock()
	if t.gate == nil {
		t.gate = make(chan struct{})
	}
	t.mu.Unlock()
}

// Unblock releases blocked sends.
func (t *Target) Unblock() {
	t.mu.Lock()
	if t.gate != nil {
		close(t.gate)
		t.gate = nil
	}
	t.mu.Unlock()
}

// OnStart and OnStop, when set, run inside Start and Stop.
func (t *Target) OnStart(f func()) { t.mu.Lock(); t.onStart = f; t.mu.Unlock() }

// OnStop: see OnStart.
func (t *Target) OnStop(f func()) { t.mu.Lock(); t.onStop = f; t.mu.Unlock() }

// Start implements component.Component.
func (t *Target) Start(context.Context) error {
	t.mu.Lock()
	t.started++
	f := t.onStart
	t.mu.Unlock()
	if f != nil {
		f()
	}
	t.Set(component.Running, nil)
	return nil
}

// Stop implements component.Component.
func (t *Target) Stop(context.Context) error {
	t.mu.Lock()
	t.stopped++
	f := t.onStop
	t.mu.Unlock()
	if f != nil {
		f()
	}
	t.Set(component.Terminated, nil)
	return nil
}

// Send implements connector.Target.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	t.mu.Lock()
	t.sent = append(t.sent, e)
	n, script, gate := len(t.sent), t.script, t.gate
	t.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if script != nil {
		err = script(n, e)
	}
	if err == nil {
		t.mu.Lock()
		t.ok = append(t.ok, e)
		t.mu.Unlock()
	}
	return err
}

// Attempts is the number of Send calls.
func (t *Target) Attempts() int { t.mu.Lock(); defer t.mu.Unlock(); return len(t.sent) }

// Delivered returns the ids of the events delivered (Send answered nil),
// in order.
func (t *Target) Delivered() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]string, len(t.ok))
	for i, e := range t.ok {
		ids[i] = e.ID()
	}
	return ids
}

// Starts and Stops count the calls of Start and Stop.
func (t *Target) Starts() int { t.mu.Lock(); defer t.mu.Unlock(); return t.started }

// Stops: see Starts.
func (t *Target) Stops() int { t.mu.Lock(); defer t.mu.Unlock(); return t.stopped }

var _ connector.Target = (*Target)(nil)
