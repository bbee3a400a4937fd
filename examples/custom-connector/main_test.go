package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor bounds each wait. The bridge starts in seconds; the margin is
// for busy CI machines.
const waitFor = 60 * time.Second

// buildBridge builds this module's binary: eventbridge with the jsonl
// target and the heartbeat source compiled in.
func buildBridge(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mybridge")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects the bridge's output for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, logs *syncBuffer, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last: %s)\nbridge output:\n%s", what, waitFor, last, logs.String())
}

// TestCustomConnectorDelivers runs the custom binary with a config that
// uses both connectors of this module: an event POSTed to the built-in
// HTTP source, and the heartbeat source's events, must reach the jsonl
// target's file.
func TestCustomConnectorDelivers(t *testing.T) {
	bin := buildBridge(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	out := filepath.Join(dir, "events.jsonl")
	cfg := filepath.Join(dir, "bridge.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
bus:
  data_dir: %s
api:
  listen: %s
sources:
  web:
    type: http
    path: /events
  pulse:
    type: heartbeat
    interval: 200ms
    event_type: com.example.heartbeat
targets:
  archive:
    type: jsonl
    path: %s
rules:
  to-archive:
    sources: [web, pulse]
    targets: [archive]
`, filepath.Join(dir, "data"), addr, out))

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(waitFor):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	eventually(t, "bridge ready", logs, func() (bool, string) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("bridge exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})

	id := fmt.Sprintf("custom-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/test","type":"com.example.order.created","datacontenttype":"application/json","data":{"total":42}}`, id)
	resp, err := http.Post("http://"+addr+"/events", "application/cloudevents+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /events: %s", resp.Status)
	}

	eventually(t, "the posted event and a heartbeat in "+out, logs, func() (bool, string) {
		events := readEvents(t, out)
		posted, beat := false, false
		for _, e := range events {
			if e["id"] == id && e["type"] == "com.example.order.created" {
				data, _ := e["data"].(map[string]any)
				posted = data["total"] == float64(42)
			}
			if e["type"] == "com.example.heartbeat" && e["source"] == "/heartbeat/pulse" {
				beat = true
			}
		}
		return posted && beat, fmt.Sprintf("%d events, posted=%v heartbeat=%v", len(events), posted, beat)
	})
}

// TestCustomConnectorValidation checks that the custom connectors' own
// validation reaches the command's output, with the field's path.
func TestCustomConnectorValidation(t *testing.T) {
	bin := buildBridge(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	writeFile(t, cfg, `
sources:
  pulse:
    type: heartbeat
    interval: soon
targets:
  archive:
    type: jsonl
rules:
  r:
    sources: [pulse]
    targets: [archive]
`)
	out, err := exec.Command(bin, "validate", "-f", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("validate accepted a jsonl target without path:\n%s", out)
	}
	for _, want := range []string{"targets.archive.path: required", "sources.pulse.interval: not a duration"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// readEvents reads the jsonl file; a missing file is no event yet.
func readEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}
