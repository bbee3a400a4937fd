package router

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// countTarget counts deliveries and keeps nothing.
type countTarget struct {
	component.Tracker
	n atomic.Int64
}

func (c *countTarget) Start(context.Context) error           { return nil }
func (c *countTarget) Stop(context.Context) error            { return nil }
func (c *countTarget) Send(context.Context, *ce.Event) error { c.n.Add(1); return nil }

func newBenchRouter(b *bus.Bus, k *delivery.Keeper, m *telemetry.Metrics) *Router {
	return New(Config{Bus: b, Keeper: k, Metrics: m})
}

func newBenchRoute(b *bus.Bus, k *delivery.Keeper, m *telemetry.Metrics, rule, target string, p delivery.Policy, s connector.Target) *delivery.Route {
	return delivery.NewRoute(delivery.RouteConfig{Rule: rule, Target: target, Policy: p, Sender: s, Bus: b, Keeper: k, Metrics: m})
}

// BenchmarkRouterDrain is the router's and the routes' work per event: b.N
// events wait in WORK, then the router starts and hands each to every
// route of one rule; the clock stops when every route has delivered every
// event and WORK is empty (every message acknowledged).
func BenchmarkRouterDrain(b *testing.B) {
	for _, routes := range []int{1, 3} {
		b.Run(strconv.Itoa(routes)+"routes", func(b *testing.B) {
			bs := bustest.New(b)
			keeper := delivery.NewKeeper(bs.Config().AckWait.D())
			defer keeper.Close()
			metrics := telemetry.NewMetrics()
			r := newBenchRouter(bs, keeper, metrics)
			var targets []*countTarget
			var rts []*delivery.Route
			for i := range routes {
				tg := &countTarget{}
				var p delivery.Policy
				p.Defaults()
				rt := newBenchRoute(bs, keeper, metrics, "bench", fmt.Sprint("t", i), p, tg)
				if err := rt.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer rt.Stop(context.Background())
				targets, rts = append(targets, tg), append(rts, rt)
			}
			ctx := context.Background()
			if err := r.SetRules(ctx, []Rule{{Name: "bench", Routes: rts}}); err != nil {
				b.Fatal(err)
			}
			batch := make([]*ce.Event, 0, 256)
			for i := range b.N {
				batch = append(batch, bustest.Event("e"+strconv.Itoa(i), "com.example.bench"))
				if len(batch) == cap(batch) || i == b.N-1 {
					bustest.Publish(b, bs, "web", batch...)
					batch = batch[:0]
				}
			}
			bustest.WaitStream(b, bs, bus.StreamWork, uint64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			if err := r.Start(ctx); err != nil {
				b.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Minute)
			for {
				done := true
				for _, tg := range targets {
					if tg.n.Load() < int64(b.N) {
						done = false
					}
				}
				if done && bustest.Count(b, bs, bus.StreamWork, "") == 0 {
					break
				}
				if time.Now().After(deadline) {
					b.Fatal("not drained")
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			_ = r.Stop(ctx)
		})
	}
}
