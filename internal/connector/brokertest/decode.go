package brokertest

import (
	"errors"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// CheckDecoded fails t unless what a protocol binding's Decode returned
// for any input is sound: either an error and no event, the error naming
// the attribute at fault unless it is notCloudEvent; or a valid event
// that the bus can store and read back. For fuzz tests.
func CheckDecoded(t *testing.T, e *ce.Event, err, notCloudEvent error) {
	t.Helper()
	if err != nil {
		if e != nil {
			t.Fatal("an event and an error")
		}
		if !errors.Is(err, notCloudEvent) && len(ebevent.Fields(err)) == 0 {
			t.Fatalf("an error that names no attribute: %v", err)
		}
		return
	}
	if err := ebevent.Validate(e); err != nil {
		t.Fatalf("decoded an invalid event: %v", err)
	}
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatalf("the bus cannot store it: %v", err)
	}
	if _, err := ebevent.DecodeJSON(b); err != nil {
		t.Fatalf("the bus cannot read back %s: %v", b, err)
	}
}
