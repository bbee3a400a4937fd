package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats-server and the nats client keep a few process-wide goroutines.
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

// startBridge runs a bridge on the config (YAML text) with a fresh data
// directory and a free port; it is stopped when the test ends.
func startBridge(t *testing.T, yamlText string) *server.Bridge {
	t.Helper()
	cfg, err := config.Parse([]byte(yamlText))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	if !strings.Contains(yamlText, "lifecycle:") {
		// Most tests count what is in EVENTS: keep the bridge's own events out.
		cfg.Lifecycle.Disabled = true
	}
	return startBridgeConfig(t, cfg)
}

// startForwarder starts a bridge with one HTTP source (path /events) and
// one rule that sends every event to the HTTP target at url.
func startForwarder(t *testing.T, url string) *server.Bridge {
	t.Helper()
	return startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out]}}
`, url))
}

func startBridgeConfig(t *testing.T, cfg *config.Config) *server.Bridge {
	t.Helper()
	lvl := slog.LevelWarn
	if os.Getenv("EVENTBRIDGE_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	b := server.New(cfg, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Stop(ctx)
	})
	return b
}

// sendEvent posts a binary-mode event and returns the status code.
func sendEvent(t testing.TB, b *server.Bridge, path, source, id, typ string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+path, strings.NewReader(`{"n":1}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", source)
	req.Header.Set("ce-type", typ)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func mustSend(t testing.TB, b *server.Bridge, id string) {
	t.Helper()
	if code := sendEvent(t, b, "/events", "/test", id, "com.example.test"); code != http.StatusAccepted {
		t.Fatalf("send %s: status %d", id, code)
	}
}

func streamMsgs(t testing.TB, b *server.Bridge, stream string) uint64 {
	t.Helper()
	return streamState(t, b, stream).Msgs
}

// streamState is a stream's state now.
func streamState(t testing.TB, b *server.Bridge, stream string) jetstream.StreamState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.Bus().JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return info.State
}

// routerExists tells whether WORK has the router's durable consumer.
func routerExists(t testing.TB, b *server.Bridge) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.Bus().JetStream().Consumer(ctx, bus.StreamWork, router.ConsumerName)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// routerCheckpoint reads the router's checkpoint of the archive (an
// embedded bus without bus.listen): every EVENTS sequence up to it is
// settled.
func routerCheckpoint(t testing.TB, b *server.Bridge) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	created, err := b.Bus().ArchiveCreated(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := b.Bus().KV(ctx, bus.CheckpointsBucket)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, _, err := bus.Checkpoint{KV: kv, Key: router.CheckpointKey, Archive: created.UnixNano()}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func deliveries(b *server.Bridge, rule, target, outcome string) float64 {
	return testutil.ToFloat64(b.Metrics().Deliveries.WithLabelValues(rule, target, outcome))
}

// dlqMessages reads every DLQ message of a route.
func dlqMessages(t testing.TB, b *server.Bridge, rule, target string) []jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := b.Bus().JetStream().Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	var out []jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if m.Subject == bus.DLQSubject(rule, target) {
			out = append(out, *m)
		}
	}
	return out
}

func yamlf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func stopBridge(b *server.Bridge) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.Stop(ctx)
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sendEventSubject posts a binary-mode event with a subject.
func sendEventSubject(t testing.TB, b *server.Bridge, id, typ, subject string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(`{}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-type", typ)
	req.Header.Set("ce-subject", subject)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
