package grpc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
)

// An event with more extensions than max_extensions (100 by default) is
// refused InvalidArgument naming the setting, counted, and not stored.
func TestPublishTooManyExtensions(t *testing.T) {
	_, c, col, deps := startSource(t, "")
	e := connectortest.Sample("1")
	for i := range 101 {
		e.SetExtension(fmt.Sprintf("x%d", i), "v")
	}
	_, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: toProto(t, e)})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("101 extensions: %v", err)
	}
	named := false
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				named = named || v.Field == "max_extensions"
			}
		}
	}
	if !named {
		t.Errorf("max_extensions not named in %v", st.Details())
	}
	if got := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("c", "extensions")); got != 1 {
		t.Errorf("rejected{extensions} = %v", got)
	}
	if col.Count() != 0 {
		t.Fatalf("stored %d", col.Count())
	}
}
