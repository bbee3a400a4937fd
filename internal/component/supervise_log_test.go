package component

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the supervisor's goroutine and
// the test at once.
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

// The supervisor is given the component's logger, which carries
// component=name already (as telemetry.Logs.Logger and the controller's
// default do); its lines must not repeat it.
func TestSuperviseLogsComponentOnce(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil)).With("component", "target/x")
	f := &flaky{}
	f.failStarts.Store(1)
	s := Supervise("target/x", f, log)
	s.MinBackoff, s.MaxBackoff = 10*time.Millisecond, 20*time.Millisecond
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "component restarted") {
		if time.Now().After(deadline) {
			t.Fatalf("no restart logged:\n%s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("want the failure and the restart logged:\n%s", buf.String())
	}
	for _, line := range lines {
		if n := strings.Count(line, "component="); n != 1 {
			t.Errorf("component= %d times in: %s", n, line)
		}
	}
}
