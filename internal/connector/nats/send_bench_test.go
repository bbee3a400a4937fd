//go:build unix

package nats

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// BenchmarkCoreTargetSend is a nats target's Send from 32 goroutines (a
// route's default delivery.concurrency) or 256 (the window max_in_flight
// gives a route by default) to an embedded server with a subscriber on
// the subject, each Send returning once the server has the message.
func BenchmarkCoreTargetSend(b *testing.B) {
	for _, senders := range []int{32, 256} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchCoreTargetSend(b, senders) })
	}
}

func benchCoreTargetSend(b *testing.B, senders int) {
	s := startServer(b)
	nc, err := nats.Connect(s.url())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	var got atomic.Int64
	sub, err := nc.Subscribe("bench.>", func(*nats.Msg) { got.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	tg := connectortest.StartTarget(b, "out", fmt.Sprintf(`{"type":"nats","url":%q,"subject":"bench.{type}"}`, s.url()))
	connectortest.Eventually(b, 10*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "not connected")
	// Count the flush round trips (before the flusher, one per Send).
	var flushes atomic.Int64
	if tt, ok := tg.(*Target); ok && tt.fl != nil {
		inner := tt.fl.flush
		tt.fl.flush = func(ctx context.Context) error { flushes.Add(1); return inner(ctx) }
	}
	e := connectortest.Sample("b")
	ctx := context.Background()
	b.SetParallelism(sendersPerProc(senders))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := tg.Send(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	cpu.report(b)
	if n := flushes.Load(); n > 0 {
		b.ReportMetric(float64(n)/float64(b.N), "flushes/op")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// sendersPerProc is the b.SetParallelism that runs about n goroutines.
func sendersPerProc(n int) int { return max(1, (n+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)) }
