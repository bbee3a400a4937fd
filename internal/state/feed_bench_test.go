//go:build unix

package state

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// BenchmarkFeed is ingest with the state kept: 8 producers publish one
// event per call over 1,000 keys, then the benchmark waits until the
// state has the last event. ns/op is per event, the publishes and the
// feed's work together (the feed shares the CPU with ingest); drain-ms
// is how long the state took to catch up after the last publish; cpu-us/ev
// the process's CPU time (user and system) per event, which a busy
// machine disturbs less than ns/op. It uses
// only the package's exported API, so that it runs on earlier releases
// too.
//
// The sub-benchmark off is ingest alone (no feed): on's figures less
// off's are the feed's cost.
func BenchmarkFeed(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchFeed(b, false) })
	b.Run("on", func(b *testing.B) { benchFeed(b, true) })
}

func benchFeed(b *testing.B, feed bool) {
	cfg := bus.Config{DataDir: b.TempDir()}
	cfg.Defaults()
	ctx := context.Background()
	bb, err := bus.Open(ctx, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bb.Close()
	sc := Config{}
	sc.Defaults()
	s, err := Open(ctx, bb, sc, nil)
	if err != nil {
		b.Fatal(err)
	}
	if feed {
		if err := s.StartFeed(ctx, nil); err != nil {
			b.Fatal(err)
		}
		defer s.StopFeed()
	}
	mk := func(id string, i int) *ce.Event {
		e := ce.New()
		e.SetID(id)
		e.SetSource("/cluster/node")
		e.SetType("com.example.sync-state")
		e.SetSubject(fmt.Sprintf("ptp-%d", i%1000))
		_ = e.SetData("application/json", map[string]any{"state": "LOCKED", "offset_ns": i})
		return &e
	}
	const producers = 8
	var next atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				if _, err := bb.Publish(ctx, "web", []*ce.Event{mk(fmt.Sprint(i), i)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	published := time.Now()
	if !feed {
		b.StopTimer()
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/ev")
		return
	}
	// The last event of the last key written.
	last := mk(fmt.Sprintf("end-%d", b.N), 0)
	last.SetSubject("end")
	if _, err := bb.Publish(ctx, "web", []*ce.Event{last}); err != nil {
		b.Fatal(err)
	}
	for {
		e, err := s.Get(ctx, "/cluster/node", "end")
		if err == nil && e.Event.ID() == last.ID() {
			break
		}
		if time.Since(published) > time.Minute {
			b.Fatal("state did not catch up")
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(published).Microseconds())/1000, "drain-ms")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/ev")
}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
