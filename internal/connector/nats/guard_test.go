package nats

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestGuardedConnection: a nats target created through the API (Deps.Guard
// set) asks the guard about the address it dials, after resolving the
// name, and does not connect when refused; allowed, it connects.
func TestGuardedConnection(t *testing.T) {
	srv := startServer(t)
	asked := make(chan netip.AddrPort, 16)
	deps := connectortest.Deps(nil)
	deps.Guard = &netguard.Guard{Allow: func(ap netip.AddrPort) bool {
		select {
		case asked <- ap:
		default:
		}
		return false
	}}
	named := strings.Replace(srv.url(), "127.0.0.1", "localhost", 1)
	connectortest.StartTargetWith(t, "refused", fmt.Sprintf(`{"type":"nats","url":%q,"subject":"x"}`, named), deps)
	select {
	case ap := <-asked:
		if !ap.Addr().IsLoopback() || ap.Port() != uint16(srv.port) {
			t.Errorf("the guard was asked about %s", ap)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the target never asked the guard")
	}
	if n := srv.srv.NumClients(); n != 0 {
		t.Fatalf("%d clients connected through a refusing guard", n)
	}

	deps.Guard = netguard.AllowOnly(fmt.Sprintf("127.0.0.1:%d", srv.port))
	connectortest.StartTargetWith(t, "allowed", fmt.Sprintf(`{"type":"nats","url":%q,"subject":"x"}`, srv.url()), deps)
	testkit.Eventually(t, 20*time.Second, func() bool { return srv.srv.NumClients() == 1 }, "the allowed target connects")
}
