//go:build unix

package bus

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkIngestWrites compares, side by side on one embedded server,
// the two layouts of ingest's writes (issue 15's structural experiment):
//
//   - twice: what Publish does, one client write to a work-queue stream,
//     then one to a limits stream (the archive);
//   - sourced: one client write to the archive, whose messages a
//     work-queue stream sources on the server.
//
// Each op is one 300-byte event with Publish's headers; the clock stops
// when the work-queue stream holds every event, so the server's copying
// of the sourced layout is counted. Writes come from 16 goroutines.
func BenchmarkIngestWrites(b *testing.B) {
	for _, layout := range []string{"twice", "sourced"} {
		b.Run(layout, func(b *testing.B) {
			bus := openTestBus(b)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			arch := jetstream.StreamConfig{Name: "BA_" + layout, Subjects: []string{"ba." + layout + ".>"}, Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxBytes: 64 << 20}
			work := jetstream.StreamConfig{Name: "BW_" + layout, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage}
			if layout == "twice" {
				work.Subjects = []string{"bw." + layout + ".>"}
			} else {
				work.Sources = []*jetstream.StreamSource{{Name: arch.Name}}
			}
			for _, sc := range []jetstream.StreamConfig{arch, work} {
				if _, err := bus.js.CreateOrUpdateStream(ctx, sc); err != nil {
					b.Fatal(err)
				}
			}
			em := getEventMsg()
			e := benchCodecEvent(b)
			if err := em.encode("web", e, "web\x00id-1", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				b.Fatal(err)
			}
			body, hdr := em.m.Data, em.m.Header
			write := func(subject string) error {
				w, err := bus.acks.publish(&nats.Msg{Subject: subject, Header: hdr, Data: body})
				if err != nil {
					return err
				}
				_, err = bus.waitAck(ctx, w, nil)
				return err
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if layout == "twice" {
						if err := write("bw.twice.web.t"); err != nil {
							b.Error(err)
							return
						}
					}
					if err := write("ba." + layout + ".web.t"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			ws, err := bus.js.Stream(ctx, work.Name)
			if err != nil {
				b.Fatal(err)
			}
			for {
				info, err := ws.Info(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if info.State.Msgs >= uint64(b.N) {
					break
				}
				if ctx.Err() != nil {
					b.Fatalf("work stream holds %d of %d", info.State.Msgs, b.N)
				}
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far (0 where
// getrusage fails).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
