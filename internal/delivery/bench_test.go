package delivery

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// benchRoutes starts n routes to a target that blocks (Block) or answers
// at once.
func benchRoutes(b *testing.B, n int, edit func(*Policy), block bool) []*Route {
	b.Helper()
	bs := bustest.New(b)
	keeper := NewKeeper(bs.Config().AckWait.D())
	b.Cleanup(keeper.Close)
	m := telemetry.NewMetrics()
	rts := make([]*Route, n)
	gate := make(chan struct{})
	b.Cleanup(func() { close(gate) })
	for i := range rts {
		var p Policy
		p.Defaults()
		if edit != nil {
			edit(&p)
		}
		tg := quietTarget{Target: bustest.NewTarget()}
		if block {
			tg.gate = gate
		}
		rts[i] = NewRoute(RouteConfig{Rule: fmt.Sprintf("f%03d", i), Target: fmt.Sprintf("t%03d", i), Policy: p, Sender: tg,
			Bus: bs, Keeper: keeper, Metrics: m, Log: bustest.Logger(b), AckWait: bs.Config().AckWait.D()})
		if err := rts[i].Start(bustest.Context(b)); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, rt := range rts {
			_ = rt.Stop(ctx)
		}
	})
	return rts
}

// quietTarget is a bustest.Target that keeps nothing of what it is sent
// and, with a gate, waits for it to close.
type quietTarget struct {
	*bustest.Target
	gate chan struct{}
}

func (t quietTarget) Send(ctx context.Context, _ *ce.Event) error {
	if t.gate != nil {
		select {
		case <-t.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// BenchmarkRouteOverflow: one event to 64 routes whose queues are full,
// as the router hands it (TryEnqueue, else Overflow): the cost per route
// of writing the event to RETRY, until every write is answered.
func BenchmarkRouteOverflow(b *testing.B) {
	const n = 64
	rts := benchRoutes(b, n, func(p *Policy) { p.QueueSize, p.Concurrency = 1, 1 }, true)
	e := bustest.Event("e", "com.example.test")
	raw, _ := e.MarshalJSON()
	var wg sync.WaitGroup
	// Fill each route's worker and queue (Submit waits for room: the
	// second goes in once the worker has taken the first).
	for _, rt := range rts {
		for range 2 {
			if err := rt.Submit(context.Background(), &Task{Event: e, Raw: raw, Key: "k", Done: func(error) {}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tasks := make([]Task, n)
		wg.Add(n)
		for j, rt := range rts {
			t := &tasks[j]
			*t = Task{Event: e, Raw: raw, Key: fmt.Sprint("k", i), Ingested: time.Now(), Done: func(error) { wg.Done() }}
			if !rt.TryEnqueue(t) {
				rt.Overflow(t)
			}
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/route")
}

// BenchmarkRouteDeliver: events through one route to a target that
// answers at once: the route's own cost per delivery.
func BenchmarkRouteDeliver(b *testing.B) {
	rts := benchRoutes(b, 1, nil, false)
	rt := rts[0]
	e := bustest.Event("e", "com.example.test")
	raw, _ := e.MarshalJSON()
	var wg sync.WaitGroup
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		t := &Task{Event: e, Raw: raw, Key: "k", Ingested: time.Now(), Done: func(error) { wg.Done() }}
		if err := rt.Submit(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}
