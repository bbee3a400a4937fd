package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

func TestTallyFromBridge(t *testing.T) {
	cfg, err := config.Parse([]byte("instance: {name: tally-node}\nlifecycle: {alive_interval: 1s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	b := server.New(cfg, slog.New(slog.DiscardHandler))
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Stop(context.Background()) }()

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := NewRoot(io.Discard, io.Discard)
		root.SetArgs([]string{"tally", "--component", "eventbridge", "--server", "http://" + b.Addr(), "--listen", metricsAddr})
		done <- root.ExecuteContext(ctx)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err == nil {
			var buf bytes.Buffer
			_, _ = io.Copy(&buf, resp.Body)
			resp.Body.Close()
			if strings.Contains(buf.String(), `lifecycle_tally_versions{component="eventbridge",version="dev"} 1`) &&
				strings.Contains(buf.String(), `lifecycle_tally_event_types{component="eventbridge",type="alive"}`) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("tally metrics never showed the bridge:\n%s", buf.String())
			}
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
