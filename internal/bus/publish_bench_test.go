package bus

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// BenchmarkPublish is Publish of one 300-byte event per call on an
// embedded bus that listens on no port, with a local reader registered
// (as the router is): serial (one call at a time: the latency of the
// store round trips) and parallel (16 goroutines on 2 cores: what a busy
// HTTP source does). Compare releases side by side (-count).
func BenchmarkPublish(b *testing.B) {
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			bus := openTestBus(b)
			bus.AddLocalReader("bench", func([]Stored) {})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			base := benchCodecEvent(b)
			var n atomic.Int64
			publish := func() {
				e := base.Clone()
				e.SetID(strconv.FormatInt(n.Add(1), 10))
				if _, err := bus.Publish(ctx, "web", []*ce.Event{&e}); err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			if mode == "serial" {
				for b.Loop() {
					publish()
				}
			} else {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						publish()
					}
				})
			}
			b.StopTimer()
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			}
		})
	}
}
