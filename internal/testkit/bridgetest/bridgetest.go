// Package bridgetest starts a real bridge for tests of its clients (the Go
// client, the CLI). It is apart from testkit because it imports
// internal/server: the packages the server is built from use testkit in
// their own tests, which would make an import cycle.
package bridgetest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all" // every connector
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// Start runs a bridge on the config (YAML text), written to a file named
// eventbridge.yaml in a temp dir so that resources from it name their
// file, with a fresh data directory and a free loopback port. The bridge
// stops when the test ends. It returns the bridge and its base URL.
func Start(t testing.TB, yamlText string) (*server.Bridge, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "eventbridge.yaml")
	if err := os.WriteFile(path, []byte(yamlText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = filepath.Join(dir, "data")
	cfg.API.Listen = "127.0.0.1:0"
	if !strings.Contains(yamlText, "lifecycle:") {
		// Tests count what is in the archive: keep the bridge's own events out.
		cfg.Lifecycle.Disabled = true
	}
	cfg.Log.Level = "error"
	if os.Getenv("EVENTBRIDGE_TEST_DEBUG") != "" {
		cfg.Log.Level = "debug"
	}
	// The bridge filters by cfg.Log.Level; the handler passes everything.
	b := server.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
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
	scheme := "http://"
	if cfg.API.TLS != nil {
		scheme = "https://"
	}
	return b, scheme + b.Addr()
}

// Send posts one binary-mode event with data {"n":1} to the bridge's HTTP
// source at path and fails the test unless it is accepted.
func Send(t testing.TB, baseURL, path, source, id, typ string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, baseURL+path, strings.NewReader(`{"n":1}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", source)
	req.Header.Set("ce-type", typ)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send %s: %v", id, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("send %s: status %d", id, resp.StatusCode)
	}
}
