package connectortest

import (
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
)

// tooManyExtensions sends an event with 101 extensions (max_extensions is
// 100 by default), then one with 100: the source refuses the first,
// counting it as rejected{reason="extensions"} (and, over a request-reply
// protocol, answering the target with an error), and stores the second.
func tooManyExtensions(t *testing.T, h Harness) {
	ch := Channel(t)
	col := NewCollector()
	deps := Deps(col)
	s := StartSourceWith(t, "src", h.Source(t, ch), deps)
	Eventually(t, 30*time.Second, func() bool { return s.Health().State == component.Running }, "source not running: %+v", s.Health)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	event := func(id string, n int) *ce.Event {
		e := ce.New()
		e.SetID(id)
		e.SetSource("/extlimits")
		e.SetType("t")
		for i := range n {
			e.SetExtension(fmt.Sprintf("x%d", i), "v")
		}
		return &e
	}
	rejected := func() float64 { return testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "extensions")) }
	// A request-reply protocol (http, grpc) answers the target with the
	// refusal: that error is the expected outcome, not a failed send.
	_ = TrySend(tg, event("over", 101))
	Eventually(t, 30*time.Second, func() bool { return rejected() >= 1 }, "the event with 101 extensions was not refused (rejected{extensions} = %v)", rejected)
	Send(t, tg, event("under", 100))
	Eventually(t, 30*time.Second, func() bool { return col.Distinct() == 1 }, "the event with 100 extensions was not stored")
	for _, e := range col.Events() {
		if e.ID() != "under" {
			t.Fatalf("stored %s", e.ID())
		}
	}
}
