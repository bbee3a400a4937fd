//go:build unix

package kafka_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// BenchmarkTargetSend is a kafka target's Send (acks=all, idempotent, no
// linger) to kfake from many goroutines at once, each Send returning with
// the broker's acknowledgement: 32 is a route's default
// delivery.concurrency, 256 the window max_in_flight gives a route by
// default.
func BenchmarkTargetSend(b *testing.B) {
	for _, senders := range []int{32, 128, 256} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			f := startFake(b)
			out := topic(fmt.Sprintf("bench-send-%d", time.Now().UnixNano()))
			if err := f.c.CreateTopic(out, 1, nil); err != nil {
				b.Fatal(err)
			}
			tg := connectortest.StartTarget(b, "out", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topic":%q}`, f.addr(), out))
			connectortest.Eventually(b, 20*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "not connected")
			e := connectortest.Sample("b")
			ctx := context.Background()
			b.SetParallelism(max(1, (senders+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
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
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
