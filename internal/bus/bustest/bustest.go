// Package bustest runs an embedded bus for the tests of the packages built
// on it (router, delivery, controller, api): a real JetStream in a
// temporary directory, with no network listener, closed when the test
// ends. It has helpers to publish events, wait for a stream or a subject
// to hold messages, and read what RETRY and DLQ hold, and a scripted fake
// target. It is imported by tests only.
//
// Helpers wait for conditions with a deadline (Eventually polls); none
// sleeps for a fixed time.
package bustest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Wait is how long the helpers wait for a condition. The deadline is
// generous: tests run with -race on busy machines.
const Wait = 60 * time.Second

// New opens an embedded bus with default settings in a fresh temporary
// directory. It listens on no port and is closed when the test ends.
func New(t testing.TB) *bus.Bus {
	t.Helper()
	return NewWith(t, nil)
}

// NewWith is New with the config changed by edit (before defaults are
// applied): a shorter ack_wait, say. DataDir and Listen are the
// harness's.
func NewWith(t testing.TB, edit func(*bus.Config)) *bus.Bus {
	t.Helper()
	var cfg bus.Config
	if edit != nil {
		edit(&cfg)
	}
	cfg.DataDir = filepath.Join(t.TempDir(), "bus")
	cfg.URL, cfg.Listen = "", ""
	// A small archive: the store is sized to the disk otherwise, and test
	// machines' temporary directories can be small.
	if cfg.Archive.MaxBytes == 0 {
		cfg.Archive.MaxBytes = spec.ByteSize(64 << 20)
	}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	b, err := bus.Open(ctx, cfg, Logger(t))
	if err != nil {
		t.Fatalf("bustest: open the bus: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Logger discards logs, unless EVENTBRIDGE_TEST_DEBUG is set.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("EVENTBRIDGE_TEST_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// Context returns a context that ends with the test, bounded by Wait.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	t.Cleanup(cancel)
	return ctx
}

// Event returns a valid CloudEvent with this id and type, source
// "bustest" and JSON data {"n":1}.
func Event(id, typ string) *ce.Event {
	e := ce.New()
	e.SetID(id)
	e.SetSource("bustest")
	e.SetType(typ)
	e.SetTime(time.Now().UTC())
	_ = e.SetData("application/json", map[string]int{"n": 1})
	return &e
}

// Publish stores events as ingested by source (EVENTS and WORK), failing
// the test unless all are stored and none is a duplicate.
func Publish(t testing.TB, b *bus.Bus, source string, events ...*ce.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	dups, err := b.Publish(ctx, source, events)
	if err != nil {
		t.Fatalf("bustest: publish: %v", err)
	}
	if dups != 0 {
		t.Fatalf("bustest: publish: %d of %d events were duplicates", dups, len(events))
	}
}

// Ingester is the bus as a connector.Ingester, for sources under test.
type Ingester struct{ Bus *bus.Bus }

// Ingest implements connector.Ingester.
func (i Ingester) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	_, err := i.Bus.Publish(ctx, source, events)
	return err
}

// IngestNoDedup stores events without deduplication.
func (i Ingester) IngestNoDedup(ctx context.Context, source string, events []*ce.Event) error {
	return i.Bus.PublishNoDedup(ctx, source, events)
}

// WaitStream waits until the stream holds exactly n messages, and fails
// the test with the last count otherwise.
func WaitStream(t testing.TB, b *bus.Bus, stream string, n uint64) {
	t.Helper()
	var got uint64
	Eventually(t, func() bool {
		got = Count(t, b, stream, "")
		return got == n
	}, func() string { return fmt.Sprintf("stream %s holds %d messages, want %d", stream, got, n) })
}

// WaitSubject waits until subject (in stream) holds exactly n messages
// and returns them, oldest first.
func WaitSubject(t testing.TB, b *bus.Bus, stream, subject string, n int) []Msg {
	t.Helper()
	var got []Msg
	Eventually(t, func() bool {
		got = Messages(t, b, stream, subject)
		return len(got) == n
	}, func() string { return fmt.Sprintf("%s holds %d messages, want %d: %v", subject, len(got), n, got) })
	return got
}

// Eventually polls cond until it holds, for up to Wait, and fails the test
// with what msg says then (msg sees the last state cond looked at).
func Eventually(t testing.TB, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", Wait, msg())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// DLQ waits for n dead letters of the route (rule, target).
func DLQ(t testing.TB, b *bus.Bus, rule, target string, n int) []Msg {
	t.Helper()
	return WaitSubject(t, b, bus.StreamDLQ, bus.DLQSubject(rule, target), n)
}

// Retry waits for n RETRY messages of the route (rule, target).
func Retry(t testing.TB, b *bus.Bus, rule, target string, n int) []Msg {
	t.Helper()
	return WaitSubject(t, b, bus.StreamRetry, bus.RetrySubject(rule, target), n)
}

// Msg is a message stored in a stream.
type Msg struct {
	Seq     uint64
	Subject string
	Header  map[string][]string
	Data    []byte
}

// Get returns the first value of a header.
func (m Msg) Get(key string) string {
	if v := m.Header[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Event decodes the message body.
func (m Msg) Event(t testing.TB) *ce.Event {
	t.Helper()
	e, err := bus.DecodeEvent(m.Data)
	if err != nil {
		t.Fatalf("bustest: message %d on %s: %v", m.Seq, m.Subject, err)
	}
	return e
}

func (m Msg) String() string { return fmt.Sprintf("#%d %s %v", m.Seq, m.Subject, m.Header) }
