package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// Core NATS: an invalid message goes to the dead-letter subject with the
// reason; a request is answered once its event is stored, or with the
// NATS service error headers when it is not a valid CloudEvent.
func TestCoreInvalidAndRequests(t *testing.T) {
	nc, dlq, col, deps := startCoreSource(t)

	if err := nc.Publish("in.plain", []byte("plain text")); err != nil {
		t.Fatal(err)
	}
	dl, err := dlq.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if dl.Header.Get("Eventbridge-Error") == "" || dl.Header.Get("Eventbridge-Subject") != "in.plain" || string(dl.Data) != "plain text" {
		t.Fatalf("dead letter %+v", dl)
	}

	req := nats.NewMsg("in.req")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "r-1")
	req.Header.Set("ce-source", "/req")
	req.Header.Set("ce-type", "t")
	resp, err := nc.RequestMsg(req, 10*time.Second)
	if err != nil || resp.Header.Get("Nats-Service-Error") != "" {
		t.Fatalf("request: %v %+v", err, resp)
	}
	if col.Distinct() != 1 {
		t.Fatalf("answered before the event was stored (%d stored)", col.Distinct())
	}
	req.Header.Del("ce-type")
	resp, err = nc.RequestMsg(req, 10*time.Second)
	if err != nil || resp.Header.Get("Nats-Service-Error-Code") != "400" {
		t.Fatalf("invalid request: %v %+v", err, resp)
	}
	if n := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "invalid")); n != 2 {
		t.Errorf("rejected{invalid} = %v, want 2", n)
	}
}

// JetStream: a message that is not a CloudEvent is terminated (never
// redelivered) after going to the dead-letter subject, here a stream.
func TestJetStreamDeadLetter(t *testing.T) {
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "DLQ", Subjects: []string{"dlq.>"}}); err != nil {
		t.Fatal(err)
	}
	col := connectortest.NewCollector()
	src, err := newJetStreamSource("src", decodeSource(t, fmt.Sprintf(`{"type":"jetstream","url":%q,"stream":"IN","create_stream":true,"subjects":["in.>"],"dead_letter":"dlq.in","ack_wait":"1s"}`, s.url())), connectortest.Deps(col))
	if err != nil {
		t.Fatal(err)
	}
	startAndWait(t, src)
	if _, err := js.Publish(ctx, "in.x", []byte("not an event")); err != nil {
		t.Fatal(err)
	}
	dlq, _ := js.Stream(ctx, "DLQ")
	connectortest.Eventually(t, 10*time.Second, func() bool {
		info, err := dlq.Info(ctx)
		return err == nil && info.State.Msgs == 1
	}, "no dead letter")
	in, _ := js.Stream(ctx, "IN")
	cons, _ := in.Consumer(ctx, "eventbridge-src")
	connectortest.Eventually(t, 10*time.Second, func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumRedelivered == 0
	}, "the invalid message is pending or was redelivered")
}

func startAndWait(t *testing.T, s interface {
	Start(context.Context) error
	Stop(context.Context) error
}) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	h := s.(interface{ Health() healthStatus })
	connectortest.Eventually(t, 20*time.Second, func() bool { return h.Health().State == running }, "not running")
}

// A jetstream source bound to a stream that does not exist yet waits for
// it (Starting, connected, with the reason) instead of failing.
func TestJetStreamWaitsForStream(t *testing.T) {
	s := startServer(t)
	col := connectortest.NewCollector()
	src, err := newJetStreamSource("src", decodeSource(t, fmt.Sprintf(`{"type":"jetstream","url":%q,"stream":"LATER"}`, s.url())), connectortest.Deps(col))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Stop(context.Background()) })
	connectortest.Eventually(t, 10*time.Second, func() bool {
		h := src.Health()
		return h.State == running-1 && h.LastError != "" && h.Detail["connected"] == true
	}, "not waiting for the stream: %+v", src.Health)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LATER", Subjects: []string{"later.>"}}); err != nil {
		t.Fatal(err)
	}
	connectortest.Eventually(t, 20*time.Second, func() bool { return src.Health().State == running }, "not running once the stream exists: %+v", src.Health)
	m := nats.NewMsg("later.x")
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", "l-1")
	m.Header.Set("ce-source", "/later")
	m.Header.Set("ce-type", "t")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Distinct() == 1 }, "not stored")
}
