package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// An http target in mode batch, signed with a secret from the
// environment: a batch that fails with 503 has each of its events
// retried on its own, and a batch the receiver refuses because of one
// event has only that event dead-lettered; every request verifies.
func TestBatchTargetRetriesEachEvent(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	t.Setenv("EB_TEST_WEBHOOK_SECRET", secret)
	verifier, err := stdwebhooks.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	requests := 0
	largest, first := 0, 0
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := verifier.Verify(r.Header, body); err != nil {
			t.Errorf("request does not verify: %v", err)
		}
		var events []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &events); err != nil {
			t.Errorf("not a batch: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		requests++
		largest = max(largest, len(events))
		if requests == 1 {
			first = len(events)
			w.WriteHeader(http.StatusServiceUnavailable) // the first batch fails as a whole
			return
		}
		for _, e := range events {
			if e.ID == "bad" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				return
			}
		}
		for _, e := range events {
			got[e.ID]++
		}
	}))
	t.Cleanup(srv.Close)
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets:
  out:
    type: http
    url: %q
    mode: batch
    batch: {max_events: 10, linger: 1s}
    signing: {secret: "${env:EB_TEST_WEBHOOK_SECRET}"}
rules: {all: {targets: [out], delivery: {concurrency: 1, max_attempts: 5, backoff: {initial: 50ms, max: 200ms}}}}
`, srv.URL))
	ids := []string{"bad"}
	for i := range 9 {
		ids = append(ids, fmt.Sprintf("good%d", i))
	}
	for _, id := range ids {
		mustSend(t, b, id)
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 9 && len(dlqMessages(t, b, "all", "out")) == 1
	}, "good events delivered and bad dead-lettered")
	dlq := dlqMessages(t, b, "all", "out")
	var dead struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(dlq[0].Data, &dead)
	if dead.ID != "bad" || dlq[0].Header.Get("Eb-Reason") != "permanent" {
		t.Errorf("dead letter %q, reason %q", dead.ID, dlq[0].Header.Get("Eb-Reason"))
	}
	mu.Lock()
	defer mu.Unlock()
	if largest < 3 {
		t.Errorf("no batch held more than %d event (the route's concurrency 1 was to be raised to max_events)", largest)
	}
	if r := deliveries(b, "all", "out", telemetry.OutcomeRetry); r != float64(first) {
		t.Errorf("%v retries counted; the first batch, of %d events, failed", r, first)
	}
	if d := deliveries(b, "all", "out", telemetry.OutcomeDelivered); d != 9 {
		t.Errorf("%v delivered, want 9", d)
	}
}
