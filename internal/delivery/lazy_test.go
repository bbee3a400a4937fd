package delivery

import (
	"errors"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// retryConsumerExists reports whether the route r → t has its RETRY
// consumer on the bus.
func retryConsumerExists(t *testing.T, b *bus.Bus) bool {
	t.Helper()
	_, err := b.JetStream().Consumer(bustest.Context(t), bus.StreamRetry, bus.RetryConsumer("r", "t"))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// An idle route has no queue, workers or RETRY consumer; its first
// retry creates the consumer, and the retry is then delivered.
func TestRouteIsLazyUntilItsFirstRetry(t *testing.T) {
	h := newRouteHarness(t, func(p *Policy) { p.Backoff.Initial = spec.Duration(50 * time.Millisecond) })
	if h.route.Active() || h.route.RetriesOpen() || retryConsumerExists(t, h.bus) {
		t.Fatalf("a started idle route: active %v, RETRY open %v: want neither, and no consumer", h.route.Active(), h.route.RetriesOpen())
	}
	h.target.Script(func(n int, _ *ce.Event) error {
		if n == 1 {
			return &connector.StatusError{Code: 503, Err: errors.New("unavailable")}
		}
		return nil
	})
	if s := wait(t, h.submit(t, "e1", nil)); s.err != nil {
		t.Fatalf("first attempt settled with %v, want nil (written to RETRY)", s.err)
	}
	bustest.Eventually(t, func() bool { return len(h.target.Delivered()) == 1 },
		func() string { return "the retry was not delivered" })
	if !h.route.RetriesOpen() || !retryConsumerExists(t, h.bus) {
		t.Fatal("the RETRY consumer is not open after the first retry")
	}
}

// Messages written to an idle route's RETRY subject by someone else (a
// redrive, a route from before a restart) are read once OpenRetries is
// called, or at Start when HasRetries says so.
func TestRouteOpenRetriesReadsWhatOthersWrote(t *testing.T) {
	h := newRouteHarness(t, nil)
	raw, err := bustest.Event("e1", "com.example.test").MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	rec := &bus.RetryRecord{Delivery: bus.Delivery{Rule: "r", Target: "t", Key: "k1", Event: raw}, NotBefore: time.Now()}
	if err := h.bus.PutRetry(bustest.Context(t), rec); err != nil {
		t.Fatal(err)
	}
	h.route.OpenRetries()
	bustest.Eventually(t, func() bool { return len(h.target.Delivered()) == 1 },
		func() string { return "the message on the RETRY subject was not delivered" })
}
