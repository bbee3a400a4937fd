package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// post sends one binary-mode event and returns the answer, its body read.
func postEvent(t *testing.T, b *server.Bridge, id string) (*http.Response, []byte, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(`{"n":1}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-type", "com.example.test")
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body, time.Since(start)
}

type readyReport struct {
	Ready      bool `json:"ready"`
	Degraded   bool `json:"degraded"`
	Components map[string]struct {
		State     string `json:"state"`
		LastError string `json:"last_error"`
	} `json:"components"`
}

func readyz(t *testing.T, b *server.Bridge) (int, readyReport) {
	t.Helper()
	resp, err := http.Get("http://" + b.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep readyReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}

// On a small disk that fills up, the bridge starts with defaults sized to
// the disk, answers 507 at once with a storage-full problem, reports
// /readyz degraded with the reason, and once space is freed takes events
// again without a restart and delivers the events it had acknowledged.
func TestFullDiskAnswers507AndHeals(t *testing.T) {
	dir := testkit.Tmpfs(t, 16<<20)
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q, timeout: 2s}}
rules: {all: {targets: [out], delivery: {max_attempts: 100, backoff: {initial: 100ms, max: 500ms}}}}
`, sink.URL)))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = dir
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := startBridgeConfig(t, cfg)

	sink.Down() // the events acknowledged before the disk fills wait in the bus
	before := []string{"b0", "b1", "b2", "b3", "b4"}
	for _, id := range before {
		mustSend(t, b, id)
	}
	filler := testkit.FillDisk(t, dir)
	filled := time.Now()
	var refuse time.Duration
	for i := 0; ; i++ {
		resp, _, _ := postEvent(t, b, fmt.Sprintf("x%d", i))
		if resp.StatusCode == http.StatusInsufficientStorage {
			refuse = time.Since(filled)
			break
		}
		if time.Since(filled) > 10*time.Second {
			t.Fatalf("no 507 within 10s of the disk filling; last status %d", resp.StatusCode)
		}
	}
	resp, body, took := postEvent(t, b, "refused")
	if resp.StatusCode != http.StatusInsufficientStorage || took > time.Second {
		t.Fatalf("on a full disk: %d after %s, want 507 at once; body %s", resp.StatusCode, took, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("507 with Content-Type %q and Retry-After %q", ct, resp.Header.Get("Retry-After"))
	}
	var p struct{ Code, Type, Detail string }
	if err := json.Unmarshal(body, &p); err != nil || p.Code != "storage-full" || !strings.HasSuffix(p.Type, "#storage-full") {
		t.Errorf("problem %s (%v), want code storage-full", body, err)
	}
	t.Logf("time to refuse: %s after the disk filled; then %s per request", refuse.Round(time.Millisecond), took.Round(time.Millisecond))

	code, rep := readyz(t, b)
	st := rep.Components["storage"]
	if code != http.StatusOK || !rep.Degraded || st.State == "running" || !strings.Contains(st.LastError, dir) {
		t.Errorf("/readyz on a full disk: %d, %+v; want 200, degraded, the storage component naming %s", code, rep, dir)
	}

	// The deliveries that fail go on writing to RETRY, until one of those
	// writes fails: the store then needs JetStream restarted, and the
	// router to pull again, once there is room.
	testkit.Eventually(t, 20*time.Second, func() bool {
		_, rep := readyz(t, b)
		return strings.Contains(rep.Components["storage"].LastError, "failed a write")
	}, "no write of the store failed on the full disk")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	for i := 0; ; i++ {
		resp, body, _ := postEvent(t, b, "after")
		if resp.StatusCode == http.StatusAccepted {
			break
		}
		if time.Since(freed) > 30*time.Second {
			t.Fatalf("no 202 within 30s of freeing space: %d %s", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("time to recover: %s after space was freed", time.Since(freed).Round(time.Millisecond))
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, rep := readyz(t, b)
		return !rep.Degraded && rep.Components["storage"].State == "running"
	}, "/readyz still degraded after space was freed")

	// Deliveries whose write to RETRY hung on the failed stream are handed
	// out again after their 10s publish timeout (about 10s after space is
	// freed on a quiet machine). On a busy one the WORK message may instead
	// come back only after the bus's ack_wait (30s), so the wait is long:
	// what this checks is that nothing acknowledged is lost.
	sink.Up(t)
	testkit.Eventually(t, 90*time.Second, func() bool {
		for _, id := range append(before, "after") {
			if !sink.Has("/test", id) {
				return false
			}
		}
		return true
	}, "not every acknowledged event was delivered: the sink has %d", sink.Distinct())
	t.Logf("every acknowledged event delivered %s after space was freed", time.Since(freed).Round(time.Millisecond))

	// A restart on the same small disk, with what it holds now, succeeds
	// with the defaults sized to it.
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	cfg2, err := config.Parse([]byte(yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out]}}
`, sink.URL)))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg2.Bus.DataDir = dir
	cfg2.API.Listen = "127.0.0.1:0"
	cfg2.Lifecycle.Disabled = true
	b = startBridgeConfig(t, cfg2)
	if got := b.Bus().Config().Archive.MaxBytes; got <= 0 || got > 8<<20 {
		t.Errorf("archive sized to %d bytes on a 16MiB disk after restarting", got)
	}
	mustSend(t, b, "restarted")
	testkit.Eventually(t, 20*time.Second, func() bool { return sink.Has("/test", "restarted") }, "no delivery after restarting on the small disk")
}
