package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// orderSink is an HTTP target that fails 10% of attempts with a retryable
// 503 (a tenth of them with Retry-After: 3) and is slow at random. It records, per key, the order of each
// event's first successful delivery, and the most requests it had in
// flight at once.
type orderSink struct {
	mu        sync.Mutex
	first     map[string][]int // key -> event numbers in order of first 2xx
	done      map[string]bool  // id delivered
	attempts  int
	failed    int
	flying    int
	maxFlying int
	keyFlying map[string]int
	overlaps  int
}

func (s *orderSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, key := r.Header.Get("ce-id"), r.Header.Get("ce-partitionkey")
	s.mu.Lock()
	s.attempts++
	s.flying++
	s.maxFlying = max(s.maxFlying, s.flying)
	s.keyFlying[key]++
	if s.keyFlying[key] > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	// Slow at random: mostly a few milliseconds, sometimes much more.
	d := time.Duration(rand.IntN(4)) * time.Millisecond
	if rand.IntN(50) == 0 {
		d = 30 * time.Millisecond
	}
	time.Sleep(d)
	fail := rand.IntN(10) == 0
	s.mu.Lock()
	s.flying--
	s.keyFlying[key]--
	if fail {
		s.failed++
	} else if !s.done[id] {
		s.done[id] = true
		var n int
		if _, err := fmt.Sscanf(id[strings.LastIndexByte(id, '-')+1:], "%d", &n); err == nil {
			s.first[key] = append(s.first[key], n)
		}
	}
	s.mu.Unlock()
	if fail {
		// One failure in ten asks for 3 s: longer than ack_wait (2 s), so
		// that retries pending at the kill come back after the WORK
		// messages the barrier waits for, and only their RETRY marks hold
		// their keys.
		if rand.IntN(10) == 0 {
			w.Header().Set("Retry-After", "3")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *orderSink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.done)
}

// TestOrderingPerKeyAcrossKill sends 10,000 events over 100 keys, one
// producer per key sending in order, to a rule that orders by
// partitionkey and a target that fails 10% of attempts and is slow at
// random; the bridge is killed with SIGKILL halfway and restarted. Per
// key, the order of first successful deliveries must be the order of
// storage, and keys must have been delivered in parallel.
func TestOrderingPerKeyAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const (
		keys    = 100
		perKey  = 100
		total   = keys * perKey
		killAt  = total / 2
		maxWait = 120 * time.Second
	)
	sink := &orderSink{first: map[string][]int{}, done: map[string]bool{}, keyFlying: map[string]int{}}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	addr := freeAddr(t)
	// queue_size 8192: the backlog (the senders are faster than the
	// target) waits in memory, and much of it is unsettled in WORK when
	// the bridge is killed. The slower path, where it overflows to RETRY,
	// is internal/delivery's TestOrderingMemoryFullOverflowsInOrder (with
	// queue_size 1024 this test takes 30-40 s).
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: %q, timeout: 5s}}
rules:
  ordered:
    targets: [sink]
    ordering: {key: partitionkey}
    delivery: {concurrency: 32, queue_size: 8192, max_attempts: 1000, backoff: {initial: 20ms, max: 200ms}}
`, srv.URL))
	p := start(t, cfg, addr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", p.log())
		}
	})

	var (
		acked atomic.Int64
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: keys}}
	began := time.Now()
	for k := 0; k < keys; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("key%03d", k)
			for i := 0; i < perKey; i++ {
				id := fmt.Sprintf("%s-%d", key, i)
				// One producer per key: the next event only once this one
				// is acknowledged (stored), so storage order is send order.
				for attempt := 0; ; attempt++ {
					if code := postKeyed(client, addr, id, key); code/100 == 2 {
						acked.Add(1)
						break
					}
					if attempt > 3000 {
						t.Errorf("event %s never accepted", id)
						return
					}
					time.Sleep(10 * time.Millisecond) // the producer's own backoff
				}
			}
		}()
	}
	testkit.Eventually(t, maxWait, func() bool { return acked.Load() >= killAt }, "senders stuck at %d", acked.Load())
	t.Logf("SIGKILL at %d acknowledged events (%d delivered)", acked.Load(), sink.delivered())
	p.restart()
	wg.Wait()
	testkit.Eventually(t, maxWait, func() bool { return sink.delivered() >= total },
		"sink has %d distinct events of %d", sink.delivered(), total)
	elapsed := time.Since(began)

	sink.mu.Lock()
	defer sink.mu.Unlock()
	bad := 0
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("key%03d", k)
		got := sink.first[key]
		if len(got) != perKey {
			t.Errorf("key %s: %d events delivered, want %d", key, len(got), perKey)
			continue
		}
		for i, n := range got {
			if n != i {
				if bad < 5 {
					t.Errorf("key %s: delivery %d was event %d (first deliveries %v)", key, i, n, got[max(0, i-3):min(len(got), i+4)])
				}
				bad++
				break
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d keys out of order", bad, keys)
	}
	if sink.maxFlying < 2 {
		t.Errorf("at most %d deliveries in flight: keys were not delivered in parallel", sink.maxFlying)
	}
	t.Logf("%d events, %d attempts (%d failed), at most %d in flight, %d same-key overlaps (around the kill), %s",
		total, sink.attempts, sink.failed, sink.maxFlying, sink.overlaps, elapsed.Round(time.Millisecond))
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

// postKeyed sends a binary-mode event with a partitionkey extension.
func postKeyed(client *http.Client, addr, id, key string) int {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/events", strings.NewReader(`{"id":"`+id+`"}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/e2e")
	req.Header.Set("ce-type", "com.example.ordered")
	req.Header.Set("ce-partitionkey", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
