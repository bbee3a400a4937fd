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

func TestLogsRing(t *testing.T) {
	var buf bytes.Buffer
	logs := NewLogs(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelInfo)
	router := logs.Logger("router").With("route", "r1")
	router.Debug("hidden")
	router.Info("one", "n", 1)
	f, backlog := logs.Ring().Follow(1, func(l LogLine) bool { return l.Level >= slog.LevelInfo })
	defer f.Close()
	if len(backlog) != 1 || backlog[0].Component != "router" || !strings.Contains(string(backlog[0].JSON), `"route":"r1"`) || !strings.Contains(string(backlog[0].JSON), `"msg":"one"`) {
		t.Fatalf("backlog %+v", backlog)
	}
	logs.Root().WithGroup("g").Warn("two", "k", "v")
	logs.Root().Error("three") // the follower's buffer (1) is full: dropped, counted
	l := <-f.C
	if !strings.Contains(string(l.JSON), `"g":{"k":"v"}`) || l.Level != slog.LevelWarn {
		t.Fatalf("followed %s", l.JSON)
	}
	if f.Dropped() != 1 {
		t.Fatalf("dropped %d", f.Dropped())
	}
	if !strings.Contains(buf.String(), "three") {
		t.Fatal("the base handler lost a line")
	}
	ring := NewLogRing(2)
	h := slog.New(&ringHandler{ring: ring})
	for _, m := range []string{"a", "b", "c"} {
		h.Info(m)
	}
	got := ring.Recent(nil)
	if len(got) != 2 || !strings.Contains(string(got[0].JSON), `"msg":"b"`) || !strings.Contains(string(got[1].JSON), `"msg":"c"`) {
		t.Fatalf("ring keeps the last 2: %d", len(got))
	}
}
