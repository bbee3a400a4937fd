package spec

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A secret logged as an attribute shows "***" in both log formats (the
// JSON handler marshals values that are not slog.LogValuers as they are).
func TestSecretInLogs(t *testing.T) {
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("x", "token", Secret("MARKER-log"))
		if strings.Contains(buf.String(), "MARKER") || !strings.Contains(buf.String(), Redacted) {
			t.Errorf("%s: %s", name, buf.String())
		}
	}
}
