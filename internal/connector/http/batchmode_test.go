package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// batchServer decodes every batch request into the ids it carries and
// answers answer(ids).
type batchServer struct {
	*httptest.Server
	mu      sync.Mutex
	batches [][]string
}

func newBatchServer(t *testing.T, answer func(ids []string) int) *batchServer {
	bs := &batchServer{}
	bs.Server = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, MediaBatch) {
			t.Errorf("Content-Type %q", ct)
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		var events []struct {
			ID          string `json:"id"`
			SpecVersion string `json:"specversion"`
		}
		if err := json.Unmarshal(b, &events); err != nil {
			t.Errorf("body is not a JSON array of events: %v", err)
		}
		ids := make([]string, len(events))
		for i, e := range events {
			ids[i] = e.ID
			if e.SpecVersion != "1.0" {
				t.Errorf("event %s: specversion %q", e.ID, e.SpecVersion)
			}
		}
		bs.mu.Lock()
		bs.batches = append(bs.batches, ids)
		bs.mu.Unlock()
		w.WriteHeader(answer(ids))
	}))
	t.Cleanup(bs.Close)
	return bs
}

func (bs *batchServer) got() [][]string {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return append([][]string(nil), bs.batches...)
}

// sendConcurrently sends n events (ids e0..e<n-1>, data of pad bytes)
// from n goroutines and returns each Send's error by id.
func sendConcurrently(tg *Target, n, pad int) map[string]error {
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e := testEvent()
			e.SetID(fmt.Sprintf("e%d", i))
			_ = e.SetData("application/json", map[string]string{"pad": strings.Repeat("x", pad)})
			err := tg.Send(context.Background(), e)
			mu.Lock()
			out[e.ID()] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func batchTarget(t *testing.T, url string, s batch.Spec) *Target {
	return startTarget(t, &TargetConfig{URL: url, Mode: ModeBatch, Batch: &s})
}

// Concurrent Sends travel max_events to a request, as a JSON array.
func TestTargetBatch(t *testing.T) {
	bs := newBatchServer(t, func([]string) int { return 200 })
	tg := batchTarget(t, bs.URL, batch.Spec{MaxEvents: 5, Linger: spec.Duration(10e9)})
	if tg.MinConcurrency() != 5 {
		t.Errorf("MinConcurrency %d", tg.MinConcurrency())
	}
	for id, err := range sendConcurrently(tg, 20, 10) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	seen := map[string]int{}
	for _, b := range bs.got() {
		if len(b) != 5 {
			t.Errorf("a batch of %d, want 5", len(b))
		}
		for _, id := range b {
			seen[id]++
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct events received, want 20", len(seen))
	}
}

// A batch holds at most max_bytes of events.
func TestTargetBatchMaxBytes(t *testing.T) {
	bs := newBatchServer(t, func([]string) int { return 200 })
	tg := batchTarget(t, bs.URL, batch.Spec{MaxEvents: 100, MaxBytes: 1024, Linger: spec.Duration(50e6)})
	for id, err := range sendConcurrently(tg, 12, 300) { // about 400 bytes each
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	total := 0
	for _, b := range bs.got() {
		total += len(b)
		if len(b) > 2 {
			t.Errorf("a batch of %d events of ~400 bytes under max_bytes 1024", len(b))
		}
	}
	if total != 12 {
		t.Errorf("%d events received", total)
	}
}

// A receiver that refuses a batch because of one event (400): the batch
// is split until that event travels alone; only it fails, for good.
func TestTargetBatchRefusedEvent(t *testing.T) {
	bs := newBatchServer(t, func(ids []string) int {
		for _, id := range ids {
			if id == "e5" {
				return nethttp.StatusBadRequest
			}
		}
		return 200
	})
	tg := batchTarget(t, bs.URL, batch.Spec{MaxEvents: 8, Linger: spec.Duration(10e9)})
	errs := sendConcurrently(tg, 8, 10)
	for id, err := range errs {
		if id == "e5" {
			if !connector.IsPermanent(err) || connector.StatusCode(err) != 400 {
				t.Errorf("e5: %v, want a permanent 400", err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	// 8, then 4+4, then 2+2 of the half with e5, then 1+1: 7 requests.
	if n := len(bs.got()); n != 7 {
		t.Errorf("%d requests, want 7: %v", n, bs.got())
	}
}

// A batch that fails in a way that may pass (503) fails every event in
// it, once: delivery retries each on its own.
func TestTargetBatchRetryable(t *testing.T) {
	bs := newBatchServer(t, func([]string) int { return nethttp.StatusServiceUnavailable })
	tg := batchTarget(t, bs.URL, batch.Spec{MaxEvents: 8, Linger: spec.Duration(10e9)})
	for id, err := range sendConcurrently(tg, 8, 10) {
		if err == nil || connector.IsPermanent(err) || connector.StatusCode(err) != 503 {
			t.Errorf("%s: %v, want a retryable 503", id, err)
		}
	}
	if n := len(bs.got()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// Sends after Stop are refused as not connected (delivery retries them).
func TestTargetBatchStopped(t *testing.T) {
	bs := newBatchServer(t, func([]string) int { return 200 })
	tg := batchTarget(t, bs.URL, batch.Spec{})
	if err := tg.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tg.Send(context.Background(), testEvent()); !errors.Is(err, connector.ErrNotConnected) {
		t.Errorf("Send after Stop: %v", err)
	}
}

func TestTargetBatchValidate(t *testing.T) {
	cases := []struct {
		edit func(*TargetConfig)
		want string
	}{
		{func(c *TargetConfig) { c.Batch = &batch.Spec{} }, "batch: only with mode batch"},
		{func(c *TargetConfig) { c.Mode = ModeBatch; c.Batch = &batch.Spec{MaxEvents: 5000} }, "batch.max_events: must be between 1 and 4096"},
		{func(c *TargetConfig) { c.Mode = ModeBatch; c.Batch = &batch.Spec{MaxBytes: 10} }, "batch.max_bytes"},
		{func(c *TargetConfig) { c.Mode = ModeBatch; c.Batch = &batch.Spec{Linger: spec.Duration(-1)} }, "batch.linger"},
		{func(c *TargetConfig) { c.Mode = "batches" }, "mode: must be binary, structured, data or batch"},
		{func(c *TargetConfig) { c.Mode = ModeBatch }, ""},
	}
	for i, c := range cases {
		cfg := &TargetConfig{URL: "http://example.com/"}
		c.edit(cfg)
		cfg.Defaults()
		p := spec.NewProblems("")
		cfg.Validate(p)
		got := ""
		if err := p.Err(); err != nil {
			got = err.Error()
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("case %d: problems %q, want %q", i, got, c.want)
		}
	}
	cfg := &TargetConfig{URL: "http://example.com/", Mode: ModeBatch}
	cfg.Defaults()
	if cfg.Batch.MaxEvents != 100 || cfg.Batch.MaxBytes != 1<<20 || cfg.Batch.Linger.D() != batch.DefaultLinger {
		t.Errorf("defaults %+v", cfg.Batch)
	}
}

// BenchmarkTargetModes compares 64 concurrent senders in structured mode
// (one request per event) and in mode batch (max_events 64), signed or
// not: events per second end to end against a local receiver.
func BenchmarkTargetModes(b *testing.B) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	defer srv.Close()
	for _, c := range []struct {
		name string
		cfg  TargetConfig
	}{
		{"structured", TargetConfig{Mode: ModeStructured}},
		{"structured-signed", TargetConfig{Mode: ModeStructured, Signing: &Signing{Secret: signSecret}}},
		{"batch64", TargetConfig{Mode: ModeBatch, Batch: &batch.Spec{MaxEvents: 64, Linger: spec.Duration(5e6)}}},
		{"batch64-signed", TargetConfig{Mode: ModeBatch, Batch: &batch.Spec{MaxEvents: 64, Linger: spec.Duration(5e6)}, Signing: &Signing{Secret: signSecret}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.URL = srv.URL
			cfg.Defaults()
			tg, err := newTarget("bench", &cfg, connector.Deps{})
			if err != nil {
				b.Fatal(err)
			}
			_ = tg.Start(context.Background())
			defer func() { _ = tg.Stop(context.Background()) }()
			e := testEvent()
			b.SetParallelism(32) // 64 senders on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := tg.Send(context.Background(), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
