package bus

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// fillArchiveFrom writes n events' worth of archive copies (about 300 B each,
// with distinct keys) straight to EVENTS, pipelined, and remembers their
// keys in the dedup set as Publish does.
func fillArchiveFrom(tb testing.TB, b *Bus, from, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	body := make([]byte, 300)
	for i := range body {
		body[i] = 'x'
	}
	const window = 2048 // under the client's 4,000 async publishes in flight
	for i := from; i < from+n; i += window {
		end := min(i+window, from+n)
		for j := i; j < end; j++ {
			m := &nats.Msg{Subject: "events.in.test", Data: body, Header: nats.Header{}}
			k := "/test\x00" + strconv.Itoa(j)
			m.Header[HdrKey] = []string{k}
			m.Header[HdrSource] = []string{"in"}
			if _, err := b.js.PublishMsgAsync(m); err != nil {
				tb.Fatal(err)
			}
			b.dedup.add(hashKey(k), time.Now())
		}
		select {
		case <-b.js.PublishAsyncComplete():
		case <-ctx.Done():
			tb.Fatal("archive fill timed out")
		}
	}
}

// windowGap separates the events left out of the window from those in it
// (EB_BENCH_WINDOW_KEYS): the window is cut at each open to reach back
// past the first of these by most of it, so that it still holds them all
// when the bus closes (the snapshot keeps the window's keys) after an
// open that took that long.
const windowGap = 30 * time.Second

func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkOpenFullArchive times Open over an archive of N events (default
// 200,000; EB_BENCH_ARCHIVE_N sets it) of which the last W lie inside the
// dedup window (EB_BENCH_WINDOW_KEYS; default all: the window is then the
// default 2 minutes, otherwise it is cut at each open to hold the last W),
// after a clean Close. It reports the keys read back, the time to open
// and the heap after a GC with the bus open.
func BenchmarkOpenFullArchive(b *testing.B) {
	n := 200_000
	if s := os.Getenv("EB_BENCH_ARCHIVE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	w := n
	if s := os.Getenv("EB_BENCH_WINDOW_KEYS"); s != "" {
		w, _ = strconv.Atoi(s)
		w = min(w, n)
	}
	cfg := Config{DataDir: b.TempDir()}
	cfg.Defaults()
	ctx := context.Background()
	bus, err := Open(ctx, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	empty := heapMiB()
	start := time.Now()
	fillArchiveFrom(b, bus, 0, n-w)
	if w < n {
		time.Sleep(windowGap) // between the old events and the window
	}
	windowStart := time.Now()
	fillArchiveFrom(b, bus, n-w, w)
	b.Logf("filled %d events in %s; heap of an empty bus %.1f MiB, just after the burst %.1f MiB (block caches and the dedup set)",
		n, time.Since(start).Round(time.Millisecond), empty, heapMiB())
	b.ReportMetric(empty, "heapMiB-empty")
	if os.Getenv("EB_BENCH_SET_HEAP") != "" { // how much of the heap is the dedup set
		burst, keys := heapMiB(), bus.dedup.len()
		bus.saveDedup()
		bus.dedup = newDedupSet(cfg.DedupWindow.D())
		without := heapMiB()
		b.Logf("heap after the burst %.1f MiB, of which the dedup set of %d keys %.1f MiB", burst, keys, burst-without)
		path := bus.snapPath
		bus.snapPath = "" // keep the snapshot of the full set
		defer func() { bus.snapPath = path }()
	}
	bus.Close()
	snap := filepath.Join(cfg.DataDir, dedupSnapshotFile)
	open := func(name string) {
		if w < n { // the window holds the last w events
			cfg.DedupWindow = spec.Duration(time.Since(windowStart) + windowGap*5/6)
		}
		start := time.Now()
		bus, err = Open(ctx, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		keys := bus.dedup.len()
		heap := heapMiB()
		b.ReportMetric(took.Seconds()*1000, "ms/open-"+name)
		b.ReportMetric(heap, "heapMiB-"+name)
		b.Logf("open (%s) with %d keys: %s, heap %.1f MiB", name, keys, took.Round(time.Millisecond), heap)
		if keys != w {
			b.Errorf("%d keys loaded, want %d", keys, w)
		}
		start = time.Now()
		bus.saveDedup()
		b.ReportMetric(time.Since(start).Seconds()*1000, "ms/save-"+name)
		b.Logf("saving the snapshot of %d keys: %s", keys, time.Since(start).Round(time.Millisecond))
		bus.Close() // saves the snapshot
	}
	if w < n {
		// Once untimed, so that the streams take the window cut to w (the
		// server's own dedup window, if any, is that of the last open).
		cfg.DedupWindow = spec.Duration(time.Since(windowStart) + windowGap*5/6)
		if bus, err = Open(ctx, cfg, nil); err != nil {
			b.Fatal(err)
		}
		bus.Close()
	}
	b.ResetTimer()
	for range b.N {
		if os.Getenv("EB_BENCH_NO_REBUILD") == "" {
			if err := os.Remove(snap); err != nil {
				b.Fatal(err)
			}
			open("rebuild") // as after a crash before any snapshot
		}
		open("snapshot")
	}
}
