package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// BenchmarkStartRules times what `eventbridge serve` does before it is
// ready with N rules (rulesConfig: realistic patterns, none with traffic):
// parse the config, then Start (the file into the store, one reconcile,
// the router). It reports the heap each idle rule keeps (B/rule: heap in
// use after GC, less the 1-rule bridge's, per extra rule). Run it with
// -benchtime=1x (10,000 rules take seconds).
func BenchmarkStartRules(b *testing.B) {
	base := startedHeap(b, 1)
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			text := []byte(rulesConfig(n, "http://127.0.0.1:9/"))
			var perRule float64
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				br := startParsed(b, text)
				b.StopTimer()
				if n > 1 {
					perRule = (float64(heapInUse()) - float64(base)) / float64(n-1)
				}
				stopQuiet(br)
				b.StartTimer()
			}
			if n > 1 {
				b.ReportMetric(perRule, "B/rule")
			}
		})
	}
}

// startParsed parses text and starts a bridge on it in a temporary
// directory.
func startParsed(b testing.TB, text []byte) *server.Bridge {
	cfg, err := config.Parse(text)
	if err != nil {
		b.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = b.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	br := server.New(cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := br.Start(ctx); err != nil {
		b.Fatalf("start: %v", err)
	}
	return br
}

// startedHeap is the heap in use with a started n-rule bridge.
func startedHeap(b testing.TB, n int) uint64 {
	br := startParsed(b, []byte(rulesConfig(n, "http://127.0.0.1:9/")))
	defer stopQuiet(br)
	return heapInUse()
}
