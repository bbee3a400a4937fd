package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestKillDuringStream sends 20,000 events from several goroutines to a
// slow sink while the bridge is killed with SIGKILL twice and restarted.
// Every event that got a 2xx must reach the sink at least once.
func TestKillDuringStream(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const (
		total   = 20000
		senders = 8
	)
	sink := testkit.NewSink(t)
	sink.SetDelay(time.Millisecond)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: %q, timeout: 5s}}
rules: {all: {targets: [sink], delivery: {concurrency: 32, backoff: {initial: 100ms, max: 1s}}}}
`, sink.URL))
	p := start(t, cfg, addr)

	var (
		acked    sync.Map // id -> true once a 2xx came back
		nAcked   atomic.Int64
		refused  atomic.Int64
		next     atomic.Int64
		wg       sync.WaitGroup
		restarts = []int64{total / 4, total * 3 / 5}
	)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				id := fmt.Sprintf("ev-%06d", i)
				// A producer retries until the bridge acknowledges.
				for attempt := 0; ; attempt++ {
					code := post(client, addr, id)
					if code/100 == 2 {
						acked.Store(id, true)
						nAcked.Add(1)
						break
					}
					refused.Add(1)
					if attempt > 2000 {
						t.Errorf("event %s never accepted (last status %d)", id, code)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	for _, at := range restarts {
		testkit.Eventually(t, 120*time.Second, func() bool { return nAcked.Load() >= at }, "senders stuck at %d", nAcked.Load())
		t.Logf("SIGKILL at %d acknowledged events (sink has %d)", nAcked.Load(), sink.Distinct())
		p.restart()
	}
	wg.Wait()
	testkit.Eventually(t, 120*time.Second, func() bool { return sink.Distinct() >= int(nAcked.Load()) },
		"sink has %d distinct events of %d acknowledged", sink.Distinct(), nAcked.Load())
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !sink.Has("/e2e", k.(string)) {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d acknowledged events never reached the sink", missing)
	}
	dups := sink.Count() - sink.Distinct()
	t.Logf("acknowledged %d, delivered %d distinct, %d duplicates (%.2f%%), %d refused sends while down",
		nAcked.Load(), sink.Distinct(), dups, 100*float64(dups)/float64(sink.Distinct()), refused.Load())
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, p.log())
	}
}
