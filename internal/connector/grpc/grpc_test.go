package grpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/grpc"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
)

// client is a plain gRPC client of a source, as any other program would be.
func client(t *testing.T, addr string) cepb.CloudEventServiceClient {
	t.Helper()
	conn, err := ggrpc.NewClient(addr, ggrpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return cepb.NewCloudEventServiceClient(conn)
}

// startSource starts a grpc source "c" on a free address, with the spec
// fields more (`,"token":"x"`), storing to a new collector. It returns the
// address, a client of it, the collector and the source's deps.
func startSource(t *testing.T, more string) (string, cepb.CloudEventServiceClient, *connectortest.Collector, connector.Deps) {
	t.Helper()
	var addrs freeAddrs
	addr := addrs.get(t, "x")
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"grpc","listen":%q%s}`, addr, more), deps)
	return addr, client(t, addr), col, deps
}

func sampleProto(t *testing.T, id string) *pb.CloudEvent { return toProto(t, connectortest.Sample(id)) }

func toProto(t *testing.T, e *ce.Event) *pb.CloudEvent {
	t.Helper()
	p, err := grpc.ToProto(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An invalid event is refused with InvalidArgument and a BadRequest
// detail per bad field, and counted; a failed store is Unavailable.
func TestPublishRefusals(t *testing.T) {
	_, c, col, deps := startSource(t, "")
	bad := &pb.CloudEvent{SpecVersion: "1.0", Id: "", Source: "/s", Attributes: map[string]*pb.CloudEventAttributeValue{
		"dataschema": {Attr: &pb.CloudEventAttributeValue_CeUri{CeUri: "relative"}},
	}}
	_, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: bad})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("invalid event: %v", err)
	}
	fields := map[string]bool{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				fields[v.Field] = true
			}
		}
	}
	for _, f := range []string{"id", "type", "dataschema"} {
		if !fields[f] {
			t.Errorf("no violation for %s in %v", f, st.Details())
		}
	}
	if got := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("c", "invalid")); got != 1 {
		t.Errorf("rejected{invalid} = %v", got)
	}
	col.Fail(1)
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: sampleProto(t, "1")}); status.Code(err) != codes.Unavailable {
		t.Fatalf("failed store: %v", err)
	}
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: sampleProto(t, "1")}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if col.Count() != 1 {
		t.Fatalf("stored %d", col.Count())
	}
}

// A source with a token refuses calls without it; the target sends it.
func TestToken(t *testing.T) {
	addr, c, col, _ := startSource(t, `,"token":"s3cret"`)
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: sampleProto(t, "1")}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: %v", err)
	}
	wrong := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"grpc","address":%q,"token":"nope"}`, addr), connectortest.Deps(nil))
	if err := wrong.Send(context.Background(), connectortest.Sample("2")); !connector.IsPermanent(err) {
		t.Fatalf("wrong token: %v, want permanent", err)
	}
	right := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"grpc","address":%q,"token":"s3cret"}`, addr), connectortest.Deps(nil))
	connectortest.Send(t, right, connectortest.Sample("3"))
	if col.Count() != 1 {
		t.Fatalf("stored %d", col.Count())
	}
}

// Subscribe streams what the source stores from then on, filtered.
func TestSubscribe(t *testing.T) {
	_, c, _, _ := startSource(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all, err := c.Subscribe(ctx, &cepb.SubscriptionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	some, err := c.Subscribe(ctx, &cepb.SubscriptionRequest{Source: "/wanted"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ggrpc.ServerStreamingClient[pb.CloudEvent]{all, some} {
		if md, err := s.Header(); err != nil || len(md.Get("subscription-id")) != 1 {
			t.Fatalf("header %v %v", md, err)
		}
	}
	want := connectortest.Sample("w")
	want.SetSource("/wanted")
	for _, e := range []*pb.CloudEvent{sampleProto(t, "other"), toProto(t, want)} {
		if _, err := c.Publish(ctx, &cepb.PublishRequest{Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"other", "w"} {
		p, err := all.Recv()
		if err != nil || p.Id != id {
			t.Fatalf("all[%d]: %v %v", i, p, err)
		}
	}
	p, err := some.Recv()
	if err != nil {
		t.Fatal(err)
	}
	got, err := grpc.FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	connectortest.SameEvent(t, want, got)
	cancel()
	if _, err := all.Recv(); status.Code(err) != codes.Canceled && !errors.Is(err, io.EOF) {
		t.Fatalf("after cancel: %v", err)
	}
}

// The target starts before its server, says it is not connected, and
// reconnects after the server goes away and comes back.
func TestTargetReconnects(t *testing.T) {
	var addrs freeAddrs
	addr := addrs.get(t, "x")
	deps := connectortest.Deps(nil)
	tg := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"grpc","address":%q}`, addr), deps)
	err := tg.Send(context.Background(), connectortest.Sample("early"))
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("no server: %v, want a retryable error", err)
	}
	col := connectortest.NewCollector()
	start := func() component.Component {
		return connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"grpc","listen":%q}`, addr), connectortest.Deps(col))
	}
	src := start()
	connectortest.Send(t, tg, connectortest.Sample("1"))
	connectortest.Eventually(t, 10*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "target not connected")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = src.Stop(ctx)
	cancel()
	connectortest.Eventually(t, 10*time.Second, func() bool { return tg.Health().Detail["connected"] == false }, "target did not notice")
	start()
	connectortest.Send(t, tg, connectortest.Sample("2"))
	if col.Distinct() != 2 {
		t.Fatalf("stored %d", col.Distinct())
	}
	if got := testutil.ToFloat64(deps.Metrics.ConnResets.WithLabelValues("c", "grpc")); got < 1 {
		t.Errorf("resets = %v", got)
	}
}
