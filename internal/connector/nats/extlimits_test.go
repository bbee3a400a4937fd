package nats

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// A message whose event has more extensions than max_extensions (100 by
// default) is refused as an invalid one: dead-lettered with the setting
// named, counted, never stored.
func TestTooManyExtensions(t *testing.T) {
	nc, dlq, col, deps := startCoreSource(t)

	msg := func(id string, exts int) *nats.Msg {
		m := nats.NewMsg("in.x")
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", id)
		m.Header.Set("ce-source", "/s")
		m.Header.Set("ce-type", "t")
		for i := range exts {
			m.Header.Set(fmt.Sprintf("ce-x%d", i), "v")
		}
		return m
	}
	if err := nc.PublishMsg(msg("over", 101)); err != nil {
		t.Fatal(err)
	}
	dl, err := dlq.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dl.Header.Get("Eventbridge-Error"), "max_extensions") {
		t.Fatalf("dead letter %+v does not name max_extensions", dl.Header)
	}
	// Messages of a subscription arrive in order: once the next one is
	// stored, the first was not.
	if err := nc.PublishMsg(msg("under", 100)); err != nil {
		t.Fatal(err)
	}
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Distinct() == 1 }, "the event with 100 extensions was not stored")
	for _, e := range col.Events() {
		if e.ID() != "under" {
			t.Fatalf("stored %s", e.ID())
		}
	}
	if n := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "extensions")); n != 1 {
		t.Errorf("rejected{extensions} = %v, want 1", n)
	}
}
