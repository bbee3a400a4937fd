package connectortest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// RefusingGuard returns a guard that refuses every forbidden address and
// tells of each it is asked about, to check that a connector dials
// through the guard.
func RefusingGuard() (*netguard.Guard, <-chan netip.AddrPort) {
	asked := make(chan netip.AddrPort, 16)
	return &netguard.Guard{Allow: func(ap netip.AddrPort) bool {
		select {
		case asked <- ap:
		default:
		}
		return false
	}}, asked
}

// WaitAsked waits until the guard was asked about the loopback port.
func WaitAsked(t testing.TB, asked <-chan netip.AddrPort, port int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ap := <-asked:
			if ap.Addr().IsLoopback() && int(ap.Port()) == port {
				return
			}
		case <-timeout:
			t.Fatalf("the guard was never asked about port %d", port)
		}
	}
}

// CountingListener listens on a loopback port and counts the connections
// it accepts (closing each at once); it is closed when the test ends.
func CountingListener(t testing.TB) (port int, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int32)
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
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// GuardedTarget checks that a target created through the API (Deps.Guard
// set) asks the guard about the address it dials, after resolving the
// name, and never connects when refused. config is the target's JSON
// config with one %d for the port of a loopback listener, reached as
// localhost.
func GuardedTarget(t *testing.T, config string) {
	t.Helper()
	port, accepted := CountingListener(t)
	guard, asked := RefusingGuard()
	deps := Deps(nil)
	deps.Guard = guard
	StartTargetWith(t, "refused", fmt.Sprintf(config, port), deps)
	WaitAsked(t, asked, port)
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the loopback listener", n)
	}
}

// CountingHTTPServer is a loopback HTTP server a guard must keep a
// connector from: it counts the requests reaching it and answers each
// like a token endpoint (JSON with an access_token). It is closed when the
// test ends.
func CountingHTTPServer(t testing.TB) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
	}))
	t.Cleanup(s.Close)
	return s, &hits
}
