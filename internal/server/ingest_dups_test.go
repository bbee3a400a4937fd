package server

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIngestLogsDuplicatesOnce checks that events dropped as duplicates
// are logged at info, once per source, naming the source and the id.
func TestIngestLogsDuplicatesOnce(t *testing.T) {
	b := bustest.New(t)
	ctx := bustest.Context(t)
	var out lockedBuffer
	ing := &ingester{bus: b, metrics: telemetry.NewMetrics(), log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	ev := func() []*ce.Event { return []*ce.Event{bustest.Event("loop-1", "com.example.loop")} }
	for range 3 { // stored, then two duplicates
		if err := ing.Ingest(ctx, "hooks", ev()); err != nil {
			t.Fatal(err)
		}
	}
	logs := out.String()
	if n := strings.Count(logs, "duplicate events dropped"); n != 1 {
		t.Fatalf("want the duplicate logged once, got %d lines:\n%s", n, logs)
	}
	for _, want := range []string{"level=INFO", "source=hooks", "id=loop-1", "hint="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	// Another source is logged on its own.
	for range 2 {
		if err := ing.Ingest(ctx, "other", ev()); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(out.String(), "duplicate events dropped"); n != 2 {
		t.Fatalf("want one more line for source other, got %d lines:\n%s", n, out.String())
	}
	// Nothing is logged when nothing is a duplicate.
	if err := ing.Ingest(ctx, "fresh", []*ce.Event{bustest.Event("new-1", "com.example.loop")}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "source=fresh") {
		t.Fatalf("logged a fresh event as duplicate:\n%s", out.String())
	}
}
