package grpc_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// TestGuardedTarget: a grpc target created through the API (Deps.Guard
// set) asks the guard about the address it dials, after resolving the
// name, and connects only when the guard allows it.
func TestGuardedTarget(t *testing.T) {
	var addrs freeAddrs
	addr := addrs.get(t, "guarded")
	col := connectortest.NewCollector()
	connectortest.StartSourceWith(t, "in", fmt.Sprintf(`{"type":"grpc","listen":%q}`, addr), connectortest.Deps(col))

	asked := make(chan netip.AddrPort, 16)
	refuse := &netguard.Guard{Allow: func(ap netip.AddrPort) bool {
		select {
		case asked <- ap:
		default:
		}
		return false
	}}
	deps := connectortest.Deps(nil)
	deps.Guard = refuse
	named := strings.Replace(addr, "127.0.0.1", "localhost", 1)
	tg := connectortest.StartTargetWith(t, "out", fmt.Sprintf(`{"type":"grpc","address":%q}`, named), deps)
	select {
	case ap := <-asked:
		if !ap.Addr().IsLoopback() {
			t.Errorf("the guard was asked about %s", ap)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the target never asked the guard")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := tg.Send(ctx, connectortest.Sample("1")); err == nil {
		t.Fatal("the guarded target delivered to a loopback server")
	}
	if col.Count() != 0 {
		t.Fatalf("%d events reached the loopback server", col.Count())
	}

	// Allowed by the guard, the same target delivers.
	deps.Guard = netguard.AllowOnly(addr)
	ok := connectortest.StartTargetWith(t, "ok", fmt.Sprintf(`{"type":"grpc","address":%q}`, addr), deps)
	connectortest.Send(t, ok, connectortest.Sample("2"))
	if col.Count() != 1 {
		t.Fatalf("stored %d", col.Count())
	}
}
