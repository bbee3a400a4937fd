package redis_test

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// TestGuardedConnection: a redis target created through the API
// (Deps.Guard set) asks the guard about the address it dials, after
// resolving the name, and never connects when refused.
func TestGuardedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	asked := make(chan netip.AddrPort, 16)
	deps := connectortest.Deps(nil)
	deps.Guard = &netguard.Guard{Allow: func(ap netip.AddrPort) bool {
		select {
		case asked <- ap:
		default:
		}
		return false
	}}
	port := ln.Addr().(*net.TCPAddr).Port
	connectortest.StartTargetWith(t, "refused", fmt.Sprintf(`{"type":"redis","url":"redis://localhost:%d/0","stream":"x"}`, port), deps)
	select {
	case ap := <-asked:
		if !ap.Addr().IsLoopback() || int(ap.Port()) != port {
			t.Errorf("the guard was asked about %s", ap)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the target never asked the guard")
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the loopback listener", n)
	}
}
