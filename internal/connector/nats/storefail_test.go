package nats

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestStoreFailuresLoggedOncePerOutage: while the bus refuses events, a
// core NATS source keeps retrying its batch (nothing lost, nothing
// answered) and logs one "failing" line, not one per retry; once a store
// works, one "recovered" line gives the failed attempts. A second outage
// is logged again.
func TestStoreFailuresLoggedOncePerOutage(t *testing.T) {
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var rec testkit.LogRecorder
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	deps.Logger = rec.Logger()
	src, err := newSource("src", decodeSource(t, fmt.Sprintf(`{"type":"nats","url":%q,"subjects":["in.>"]}`, s.url())), deps)
	if err != nil {
		t.Fatal(err)
	}
	startAndWait(t, src)

	publish := func(id int) {
		t.Helper()
		m := nats.NewMsg("in.x")
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", strconv.Itoa(id))
		m.Header.Set("ce-source", "/t")
		m.Header.Set("ce-type", "t")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	const failing, recovered = "cannot store events on the bus", "events are stored on the bus again"

	// Retries are 100 ms, 200 ms, 400 ms, 800 ms apart (backoff): 4
	// failures take about 1.5 s.
	col.Fail(4)
	for i := range 3 {
		publish(i)
	}
	connectortest.Eventually(t, 30*time.Second, func() bool { return col.Distinct() == 3 }, "stored %d of 3 events", col.Distinct())
	testkit.Eventually(t, 10*time.Second, func() bool { return rec.Count(recovered) == 1 }, "no recovered line")
	if fl := rec.Records(failing); len(fl) != 1 || fl[0].Attrs["err"].String() == "" {
		t.Fatalf("failing lines %+v, want 1 for 4 failed attempts", fl)
	}
	if r := rec.Records(recovered)[0]; r.Attrs["failed_attempts"].Int64() != 4 || r.Attrs["failed_messages"].Int64() < 4 {
		t.Errorf("recovered line %+v, want 4 failed attempts", r.Attrs)
	}

	col.Fail(2)
	publish(3)
	connectortest.Eventually(t, 30*time.Second, func() bool { return col.Distinct() == 4 }, "stored %d of 4 events", col.Distinct())
	testkit.Eventually(t, 10*time.Second, func() bool { return rec.Count(recovered) == 2 }, "no recovered line after the second outage")
	if n := rec.Count(failing); n != 2 {
		t.Fatalf("%d failing lines after two outages, want 2", n)
	}
	if r := rec.Records(recovered)[1]; r.Attrs["failed_attempts"].Int64() != 2 || r.Attrs["failed_messages"].Int64() != 2 {
		t.Errorf("second recovered line %+v, want 2 failed attempts of 1 message", r.Attrs)
	}
	if n := rec.Count("cannot store"); n != 2 {
		t.Errorf("%d lines about failed stores in all, want 2", n)
	}
}
