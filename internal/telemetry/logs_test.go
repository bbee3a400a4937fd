package telemetry

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogsLevels(t *testing.T) {
	var buf bytes.Buffer
	logs := NewLogs(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelInfo)
	router, src := logs.Logger("router"), logs.Logger("source/web")
	router.Debug("hidden")
	src.Info("shown", "k", 1)
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "component=source/web") {
		t.Fatalf("default levels: %s", out)
	}
	if err := logs.SetLevel("router", "debug"); err != nil {
		t.Fatal(err)
	}
	router.Debug("now shown")
	src.Debug("still hidden")
	if out := buf.String(); !strings.Contains(out, "now shown") || strings.Contains(out, "still hidden") {
		t.Fatalf("per logger: %s", out)
	}
	if err := logs.SetLevel("source/", "debug"); err != nil {
		t.Fatal(err)
	}
	src.Debug("prefix works")
	if !strings.Contains(buf.String(), "prefix works") {
		t.Fatal("prefix level not applied")
	}
	if err := logs.SetLevel("*", "error"); err != nil {
		t.Fatal(err)
	}
	router.Warn("quiet now")
	if strings.Contains(buf.String(), "quiet now") {
		t.Fatal("* did not reset")
	}
	if err := logs.SetLevel("nope", "debug"); err == nil {
		t.Fatal("unknown logger accepted")
	}
	if err := logs.SetLevel("router", "loud"); err == nil {
		t.Fatal("bad level accepted")
	}
	list := logs.List()
	if list[0].Name != "*" || list[0].Level != "error" || len(list) != 3 {
		t.Fatalf("list %+v", list)
	}
}
