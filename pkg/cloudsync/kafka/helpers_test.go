package kafka

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	specCreate   = "io.example.widgets.v1.widgets.spec.create_request"
	specResync   = "io.example.widgets.v1.widgets.spec.resync_request"
	statusUpdate = "io.example.widgets.v1.widgets.status.update_request"
	statusResync = "io.example.widgets.v1.widgets.status.resync_request"
	testTimeout  = 90 * time.Second
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runKafka starts an in-process Kafka on port keeping its data in dir.
func runKafka(t *testing.T, port int, dir string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// opts are fast options for tests on c.
func opts(c *kfake.Cluster) Options {
	return Options{Brokers: c.ListenAddrs(), Prefix: "t" + uuid.NewString()[:8], DiscoveryInterval: 200 * time.Millisecond}
}

func newEvent(typ, source, cluster, orig string) cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID(uuid.NewString())
	e.SetType(typ)
	e.SetSource(source)
	e.SetExtension("clustername", cluster)
	e.SetExtension("originalsource", orig)
	return e
}

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

// start connects, subscribes and receives into a new inbox; stop ends
// the Receive and closes the transport (also done when the test ends).
func start(t *testing.T, tr *Transport) (b *inbox, stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	b = &inbox{}
	done := make(chan struct{})
	rctx, rcancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		if err := tr.Receive(rctx, b.add); err != nil {
			t.Errorf("Receive: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			rcancel()
			<-done
			_ = tr.Close(context.Background())
		})
	}
	t.Cleanup(stop)
	return b, stop
}

func send(t *testing.T, tr *Transport, e cloudevents.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tr.Send(ctx, e); err != nil {
		t.Fatalf("Send %s: %v", e.Type(), err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
