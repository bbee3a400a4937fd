package mqtt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Two sources of the same name, with the default client id, get ids of
// their own: both connect and stay connected.
func TestDefaultClientIDsDiffer(t *testing.T) {
	b := startBroker(t)
	cfg := fmt.Sprintf(`{"type":"mqtt","url":%q,"topics":["ids/#"],"qos":0}`, b.url())
	first := startSource(t, cfg, connectortest.Deps(connectortest.NewCollector()))
	second := startSource(t, cfg, connectortest.Deps(connectortest.NewCollector()))
	a, z := first.Health().Detail["client_id"], second.Health().Detail["client_id"]
	if a == nil || a == z {
		t.Fatalf("default client ids %v and %v", a, z)
	}
	if id := a.(string); !strings.HasPrefix(id, "eventbridge-") || !strings.Contains(id, "-source-src-") {
		t.Errorf("default client id %q", id)
	}
	testkit.Never(t, time.Second, func() bool {
		return first.Health().State != component.Running || second.Health().State != component.Running
	}, "a source lost its connection: %+v %+v", first.Health(), second.Health())
	c := &ConnConfig{ClientID: "mine"}
	if c.clientID("source", "src") != "mine" || c.clientID("target", "t") != "mine" {
		t.Error("a configured client id is not kept")
	}
}
