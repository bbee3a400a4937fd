package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// GET /v1/logs: the bridge's own lines, with the read scope, filtered by
// level, and followed live.
func TestLogsAPI(t *testing.T) {
	b := startBridge(t, tokensYAML())
	base := "http://" + b.Addr()
	if code, _ := raw(t, base, "", "GET", "/v1/logs", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	code, body := raw(t, base, readToken, "GET", "/v1/logs?level=info", "")
	if code != 200 || !strings.Contains(body, `"msg":"eventbridge started"`) {
		t.Fatalf("recent lines: %d %s", code, body)
	}
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(l, "{") || strings.Contains(l, `"level":"DEBUG"`) {
			t.Fatalf("not a JSON line at info or above: %s", l)
		}
	}
	if code, body := raw(t, base, readToken, "GET", "/v1/logs?tail=1&level=info", ""); code != 200 || strings.Count(body, "\n") != 1 {
		t.Fatalf("tail=1: %d %q", code, body)
	}
	if code, body := raw(t, base, readToken, "GET", "/v1/logs?levle=warn", ""); code != 400 || !strings.Contains(body, "levle") {
		t.Fatalf("unknown parameter: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/logs?follow=true&level=warn&tail=0", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	log := b.Logs().Logger("logs-test")
	log.Info("info-marker-1b2c")
	log.Warn("warn-marker-3d4e", "n", 7)
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatalf("no line followed: %v", sc.Err())
	}
	if l := sc.Text(); !strings.Contains(l, `"msg":"warn-marker-3d4e"`) || !strings.Contains(l, `"component":"logs-test"`) || !strings.Contains(l, `"n":7`) {
		t.Fatalf("followed line: %s", l)
	}
}
