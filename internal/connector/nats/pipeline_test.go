package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// orderIngester records what is stored, in order, and the size of each
// call; it is slow (so that the source's next batch is decoded while one
// is being stored) and refuses every third call (the core NATS source
// retries the same batch).
type orderIngester struct {
	mu      sync.Mutex
	calls   int
	ids     []string
	largest int
}

func (o *orderIngester) Ingest(ctx context.Context, _ string, events []*ce.Event) error {
	select {
	case <-time.After(2 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	o.largest = max(o.largest, len(events))
	if o.calls%3 == 0 {
		return errors.New("refused")
	}
	for _, e := range events {
		o.ids = append(o.ids, e.ID())
	}
	return nil
}

func (o *orderIngester) IngestNoDedup(ctx context.Context, source string, events []*ce.Event) error {
	return o.Ingest(ctx, source, events)
}

func (o *orderIngester) stored() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ids...)
}

// The core NATS source decodes a batch while the bus stores the one
// before, but stores batches one at a time in the order received, never
// more than max_batch events at once, and a batch the bus refused is
// stored again before any later one: what one subject received is stored
// exactly once, in order, invalid messages (dead-lettered) left out.
func TestCoreSourceKeepsOrderAcrossBatches(t *testing.T) {
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	dlq, err := nc.SubscribeSync("dlq.in")
	if err != nil {
		t.Fatal(err)
	}
	ing := &orderIngester{}
	src, err := newSource("src", decodeSource(t, fmt.Sprintf(`{"type":"nats","url":%q,"subjects":["in.>"],"dead_letter":"dlq.in","max_batch":7}`, s.url())), connectortest.Deps(ing))
	if err != nil {
		t.Fatal(err)
	}
	startAndWait(t, src)
	const n = 2000
	var want []string
	for i := range n {
		if i%97 == 0 { // not a CloudEvent: dead-lettered, not stored
			if err := nc.Publish("in.x", []byte("plain")); err != nil {
				t.Fatal(err)
			}
			continue
		}
		m := nats.NewMsg("in.x")
		id := fmt.Sprintf("o-%04d", i)
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", id)
		m.Header.Set("ce-source", "/order")
		m.Header.Set("ce-type", "t")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	connectortest.Eventually(t, 60*time.Second, func() bool { return len(ing.stored()) >= len(want) }, "stored %d of %d", len(ing.stored()), len(want))
	got := ing.stored()
	if len(got) != len(want) {
		t.Fatalf("stored %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is %s, want %s (order)", i, got[i], want[i])
		}
	}
	ing.mu.Lock()
	largest, calls := ing.largest, ing.calls
	ing.mu.Unlock()
	if largest > 7 {
		t.Errorf("an Ingest call had %d events, over max_batch 7", largest)
	}
	if calls < n/7 {
		t.Errorf("%d Ingest calls for %d events in batches of at most 7", calls, len(want))
	}
	for i := 0; i < n; i += 97 {
		if _, err := dlq.NextMsg(10 * time.Second); err != nil {
			t.Fatalf("dead letter %d: %v", i/97, err)
		}
	}
}
