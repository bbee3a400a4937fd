package brokertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// StartWithoutBroker starts a source and a target whose configs name a
// broker that refuses connections, and checks that both start anyway:
// the source says why in its health (starting, not connected, the
// refusal as its last error) and the target's Send returns
// connector.ErrNotConnected. It returns the target for further checks.
func StartWithoutBroker(t *testing.T, source, target string) connector.Target {
	t.Helper()
	src := connectortest.StartSourceWith(t, "c", source, connectortest.Deps(connectortest.NewCollector()))
	tgt := connectortest.StartTargetWith(t, "c", target, connectortest.Deps(nil))
	connectortest.Eventually(t, 10*time.Second, func() bool { return src.Health().LastError != "" }, "no error in the source's health")
	if h := src.Health(); h.State != component.Starting || h.Detail["connected"] != false || !strings.Contains(h.LastError, "refused") {
		t.Fatalf("source health %+v", h)
	}
	if err := tgt.Send(context.Background(), connectortest.Sample("x")); !errors.Is(err, connector.ErrNotConnected) {
		t.Fatalf("Send = %v, want ErrNotConnected", err)
	}
	return tgt
}
