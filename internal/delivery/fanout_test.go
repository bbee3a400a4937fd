package delivery

// Fan-out under pressure: many routes with tiny queues behind a slow,
// sometimes failing target, fed the way the router feeds them (TryEnqueue,
// else Overflow into RETRY). Every (event, route) must arrive, whatever
// path it took (queue, overflow, retry after a failure), and RETRY must
// end empty: nothing is lost, nothing left behind.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// countingSink is the targets of every route: it counts deliveries by
// (route, event), waits a little per Send and fails some attempts.
type countingSink struct {
	name  string
	wait  time.Duration
	fail  func(key string, n int) bool
	mu    *sync.Mutex
	got   map[string]int // route|event -> deliveries
	tries map[string]int // route|event -> attempts
}

func (s *countingSink) Send(ctx context.Context, e *ce.Event) error {
	if s.wait > 0 {
		select {
		case <-time.After(s.wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	k := s.name + "|" + e.ID()
	s.mu.Lock()
	s.tries[k]++
	n := s.tries[k]
	s.mu.Unlock()
	if s.fail != nil && s.fail(k, n) {
		return &connector.StatusError{Code: 503, Err: errors.New("busy")}
	}
	s.mu.Lock()
	s.got[k]++
	s.mu.Unlock()
	return nil
}

// sinkTarget is a bustest.Target (for the component part) that sends to
// a countingSink.
type sinkTarget struct {
	*bustest.Target
	s *countingSink
}

func (t sinkTarget) Send(ctx context.Context, e *ce.Event) error { return t.s.Send(ctx, e) }

func TestFanoutOverflowAndRetriesLoseNothing(t *testing.T) {
	const routes, events = 40, 150
	b := bustest.New(t)
	keeper := NewKeeper(b.Config().AckWait.D())
	t.Cleanup(keeper.Close)
	m := telemetry.NewMetrics()
	var mu sync.Mutex
	got, tries := map[string]int{}, map[string]int{}
	// One attempt in five fails (a 503), the first attempt of some events
	// on every route, and a few events fail three times in a row.
	fail := func(key string, n int) bool {
		h := fnv.New32a()
		h.Write([]byte(key))
		v := h.Sum32()
		return (v%5 == 0 && n == 1) || (v%53 == 0 && n <= 3)
	}
	rts := make([]*Route, routes)
	for i := range rts {
		var p Policy
		p.Defaults()
		p.QueueSize, p.Concurrency = 2, 1
		p.Backoff.Initial, p.Backoff.Max = spec.Duration(5*time.Millisecond), spec.Duration(20*time.Millisecond)
		name := fmt.Sprintf("t%02d", i)
		sink := &countingSink{name: name, wait: 200 * time.Microsecond, fail: fail, mu: &mu, got: got, tries: tries}
		rts[i] = NewRoute(RouteConfig{
			Rule: fmt.Sprintf("f%02d", i), Target: name, Policy: p, Sender: sinkTarget{bustest.NewTarget(), sink},
			Bus: b, Keeper: keeper, Metrics: m, Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
		})
		if err := rts[i].Start(bustest.Context(t)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, rt := range rts {
			_ = rt.Stop(ctx)
		}
	})
	var settleErrs atomic.Int64
	var dispatch func(rt *Route, e *ce.Event, raw []byte)
	dispatch = func(rt *Route, e *ce.Event, raw []byte) {
		task := &Task{Event: e, Raw: raw, Key: "bustest/" + e.ID(), Ingested: time.Now()}
		task.Done = func(err error) {
			if err != nil { // the router would hand the event out again
				settleErrs.Add(1)
				go dispatch(rt, e, raw)
			}
		}
		if !rt.TryEnqueue(task) {
			rt.Overflow(task)
		}
	}
	for i := range events {
		e := bustest.Event(fmt.Sprintf("e%03d", i), "com.example.test")
		raw, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range rts {
			dispatch(rt, e, raw)
		}
	}
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for i := range rts {
			for j := range events {
				if k := fmt.Sprintf("t%02d|e%03d", i, j); got[k] == 0 {
					out = append(out, k)
				}
			}
		}
		return out
	}
	bustest.Eventually(t, func() bool { return len(missing()) == 0 }, func() string {
		miss := missing()
		return fmt.Sprintf("%d of %d deliveries never arrived (%d RETRY messages left, %d bus write errors), e.g. %s",
			len(miss), routes*events, bustest.Count(t, b, bus.StreamRetry, ""), settleErrs.Load(), strings.Join(miss[:min(5, len(miss))], ", "))
	})
	bustest.WaitStream(t, b, bus.StreamRetry, 0)
	var overflowed float64
	for i := range rts {
		rule, target := rts[i].Key()
		overflowed += testutil.ToFloat64(m.Deliveries.WithLabelValues(rule, target, telemetry.OutcomeOverflow))
	}
	if overflowed == 0 {
		t.Error("no event overflowed into RETRY: the test does not test what it should")
	}
}
