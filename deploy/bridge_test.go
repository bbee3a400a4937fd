package deploy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// TestContainerConfigServesTheProbes runs the bridge on the config the
// image ships, as the container would (with its data directory and listen
// address moved to the test's), and asks it what the probes, the scrapers
// and an API client ask.
func TestContainerConfigServesTheProbes(t *testing.T) {
	cfg, err := parseConfig(t, readFile(t, "eventbridge.yaml"), map[string]string{"EVENTBRIDGE_ADMIN_TOKEN": testToken},
		serveArgs{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	b := server.New(cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Stop(ctx)
	})
	base := "http://" + b.Addr()
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	if code, _ := get(livePath, ""); code != http.StatusOK {
		t.Errorf("GET %s: %d", livePath, code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(readyPath, "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still %d after 10s: %s", readyPath, code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(metricsPath, ""); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET %s: %d", metricsPath, code)
	}
	// The admin token from the environment guards the API, loopback or not.
	if code, _ := get("/v1/rules", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/rules without the token: %d, want 401", code)
	}
	if code, body := get("/v1/rules", testToken); code != http.StatusOK || !strings.Contains(body, "everything-to-log") {
		t.Errorf("GET /v1/rules with the token: %d %s", code, body)
	}
}
