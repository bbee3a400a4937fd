package natsjs

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
)

// runServer starts an embedded NATS server with JetStream on port (0: a
// free one) storing in dir.
func runServer(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("embedded NATS not ready after 30s")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func url(s *server.Server) string { return s.ClientURL() }

func newEvent(typ, source, cluster, orig string) cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID(uuid.NewString())
	e.SetType(typ)
	e.SetSource(source)
	e.SetExtension("clustername", cluster)
	e.SetExtension("originalsource", orig)
	return e
}

const (
	specCreate    = "io.example.widgets.v1.widgets.spec.create_request"
	specResync    = "io.example.widgets.v1.widgets.spec.resync_request"
	statusUpdate  = "io.example.widgets.v1.widgets.status.update_request"
	statusResync  = "io.example.widgets.v1.widgets.status.resync_request"
	testTimeout   = 60 * time.Second
	quietInterval = 500 * time.Millisecond
)

// inbox collects what a transport receives.
type inbox struct {
	mu   sync.Mutex
	evts []cloudevents.Event
}

func (b *inbox) add(_ context.Context, e cloudevents.Event) {
	b.mu.Lock()
	b.evts = append(b.evts, e)
	b.mu.Unlock()
}

func (b *inbox) ids() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := map[string]int{}
	for _, e := range b.evts {
		m[e.ID()]++
	}
	return m
}

func (b *inbox) get(id string) (cloudevents.Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.evts {
		if e.ID() == id {
			return e, true
		}
	}
	return cloudevents.Event{}, false
}

// start connects, subscribes and receives into a new inbox until the test
// ends; it returns the inbox and a channel closed when Receive returns.
func start(t *testing.T, tr *Transport) (*inbox, chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return receive(t, tr)
}

func receive(t *testing.T, tr *Transport) (*inbox, chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tr.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	b := &inbox{}
	done := make(chan struct{})
	rctx, rcancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		if err := tr.Receive(rctx, b.add); err != nil {
			t.Errorf("Receive: %v", err)
		}
	}()
	t.Cleanup(func() {
		rcancel()
		_ = tr.Close(context.Background())
		<-done
	})
	return b, done
}

func send(t *testing.T, tr *Transport, e cloudevents.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tr.Send(ctx, e); err != nil {
		t.Fatalf("Send %s: %v", e.Type(), err)
	}
}

func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("cstest.%s", EscapeToken(uuid.NewString()[:8]))
}
