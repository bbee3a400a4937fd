package grpc_test

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/grpc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// freeAddr returns a loopback address nobody listens on, the same one for
// the same channel.
type freeAddrs struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *freeAddrs) get(t testing.TB, channel string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.m[channel]; ok {
		return a
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[channel] = a
	return a
}

// The grpc target publishes to a grpc source on a loopback port. The
// protobuf format is the only mode; the suite calls it "structured".
func TestConformance(t *testing.T) {
	var addrs freeAddrs
	connectortest.Run(t, connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"structured"}, Persistent: true, Ordered: true},
		SourceType: "grpc", TargetType: "grpc",
		Source: func(t testing.TB, ch string) string {
			return fmt.Sprintf(`{"type":"grpc","listen":%q}`, addrs.get(t, ch))
		},
		Target: func(t testing.TB, ch, _ string) string {
			return fmt.Sprintf(`{"type":"grpc","address":%q}`, addrs.get(t, ch))
		},
	})
}
