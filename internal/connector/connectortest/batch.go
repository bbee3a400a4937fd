package connectortest

import (
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
)

// SendConcurrently sends every event from its own goroutine at once (as a
// route's workers do, so that a batching target fills batches) with
// TrySend, and returns each one's outcome by id.
func SendConcurrently(tg connector.Target, events []*ce.Event) map[string]error {
	var mu sync.Mutex
	out := make(map[string]error, len(events))
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() {
			err := TrySend(tg, e)
			mu.Lock()
			out[e.ID()] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
