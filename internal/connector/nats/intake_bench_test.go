//go:build unix

package nats

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// countingIngester stores into the embedded bus and counts the events and
// the Ingest calls.
type countingIngester struct {
	bustest.Ingester
	events, calls atomic.Int64
}

func (c *countingIngester) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	if err := c.Ingester.Ingest(ctx, source, events); err != nil {
		return err
	}
	c.calls.Add(1)
	c.events.Add(int64(len(events)))
	return nil
}

// BenchmarkCoreSourceIntake is a core NATS source storing into an embedded
// bus (WORK and EVENTS, no router reading them) what one publisher sends
// as fast as it can, with at most 10,000 events published and not yet
// stored (the bench's window); an op is one event stored. The
// sub-benchmarks set the source's max_batch (the default when empty).
func BenchmarkCoreSourceIntake(b *testing.B) {
	for _, maxBatch := range []string{"", "100", "1000"} {
		b.Run("max_batch="+maxBatch, func(b *testing.B) {
			s := startServer(b)
			ing := &countingIngester{Ingester: bustest.Ingester{Bus: bustest.New(b)}}
			cfg := fmt.Sprintf(`{"type":"nats","url":%q,"subjects":["in.>"]`, s.url())
			if maxBatch != "" {
				cfg += `,"max_batch":` + maxBatch
			}
			src, err := newSource("src", decodeSource(b, cfg+"}"), connectortest.Deps(ing))
			if err != nil {
				b.Fatal(err)
			}
			if err := src.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = src.Stop(ctx)
			})
			connectortest.Eventually(b, 20*time.Second, func() bool { return src.Health().Detail["connected"] == true }, "not connected")
			nc, err := nats.Connect(s.url())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			e := connectortest.Sample("x")
			m, err := Encode(e, ModeBinary)
			if err != nil {
				b.Fatal(err)
			}
			m.Subject = "in.x"
			const window = 10000
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for i := range b.N {
				for int64(i)-ing.events.Load() >= window {
					time.Sleep(100 * time.Microsecond)
				}
				m.Header.Set("ce-id", fmt.Sprintf("e%d-%d", b.N, i))
				if err := nc.PublishMsg(m); err != nil {
					b.Fatal(err)
				}
			}
			for deadline := time.Now().Add(time.Minute); ing.events.Load() < int64(b.N); {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d events stored", ing.events.Load(), b.N)
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			cpu.report(b)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(ing.events.Load())/float64(max(ing.calls.Load(), 1)), "events/batch")
		})
	}
}
