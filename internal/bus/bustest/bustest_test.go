package bustest

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// The harness sees what the bus stores: an event in EVENTS and WORK, read
// back by subject without taking it from the work queue. (An embedded bus
// that listens on no port writes WORK once a consumer of it is opened.)
func TestHarnessSeesPublishedEvents(t *testing.T) {
	b := New(t)
	if err := b.Work().Open(Context(t), bus.WorkOptions{MaxAckPending: 16}); err != nil {
		t.Fatal(err)
	}
	Publish(t, b, "web", Event("e1", "com.example.a"), Event("e2", "com.example.b"))
	WaitStream(t, b, bus.StreamEvents, 2)
	WaitStream(t, b, bus.StreamWork, 2)
	got := WaitSubject(t, b, bus.StreamWork, bus.WorkSubject("web", "com.example.b"), 1)
	if got[0].Event(t).ID() != "e2" || got[0].Get(bus.HdrSource) != "web" {
		t.Errorf("WORK message %v, want e2 from web", got[0])
	}
	if n := Count(t, b, bus.StreamWork, "work.web.>"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	// Reading did not consume (the consumer opened is not pulled from).
	WaitStream(t, b, bus.StreamWork, 2)
	if c := ConsumerState(t, b, bus.StreamWork, "nobody"); c.Exists {
		t.Errorf("a consumer that was never made exists: %+v", c)
	}
}
