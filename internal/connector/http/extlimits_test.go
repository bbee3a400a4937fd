package http

import (
	"fmt"
	"strings"
	"testing"
)

// extHeaders are n ce- extension headers x0..x(n-1), each valueLen bytes.
func extHeaders(n, valueLen int) []string {
	h := binaryHeaders()
	for i := 0; i < n; i++ {
		h = append(h, fmt.Sprintf("ce-x%d", i), strings.Repeat("v", valueLen))
	}
	return h
}

// structuredWithExt is a JSON-format event with n extensions.
func structuredWithExt(id string, n, valueLen int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"specversion":"1.0","id":%q,"source":"/s","type":"t"`, id)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `,"x%d":%q`, i, strings.Repeat("v", valueLen))
	}
	b.WriteString("}")
	return b.String()
}

// TestExtensionLimits: every ingest path refuses an event over
// max_extensions or max_extension_size with a problem naming the setting,
// stores nothing, and accepts one at the limit.
func TestExtensionLimits(t *testing.T) {
	limits := func(c *SourceConfig) { c.MaxExtensions = 5; c.MaxExtensionSize = 2048 }
	cases := []struct {
		name    string
		body    string
		hdr     []string
		status  int
		code    string
		setting string
	}{
		{"binary, too many", "", extHeaders(6, 1), 431, "headers-too-large", "max_extensions"},
		{"binary, 10,000 extensions", "", extHeaders(10000, 1), 431, "headers-too-large", "max_extensions"},
		{"binary, too large", "", extHeaders(2, 1100), 431, "headers-too-large", "max_extension_size"},
		{"structured, too many", structuredWithExt("1", 6, 1), []string{"Content-Type", MediaStructured}, 400, "too-many-extensions", "max_extensions"},
		{"structured, too large", structuredWithExt("1", 2, 1100), []string{"Content-Type", MediaStructured}, 400, "too-many-extensions", "max_extension_size"},
		{"batch entry, too many", "[" + structuredWithExt("1", 1, 1) + "," + structuredWithExt("2", 6, 1) + "]", []string{"Content-Type", MediaBatch}, 400, "too-many-extensions", "[1].max_extensions"},
		{"batch entry, too large", "[" + structuredWithExt("1", 2, 1100) + "]", []string{"Content-Type", MediaBatch}, 400, "too-many-extensions", "[0].max_extension_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, rec := newTestSource(t, limits)
			p := readProblem(t, serve(src, post(c.body, c.hdr...)), c.status)
			if p.Code != c.code {
				t.Errorf("code %q, want %q", p.Code, c.code)
			}
			if got := problemFields(p); len(got) != 1 || got[0] != c.setting {
				t.Errorf("errors name %q, want [%s]", got, c.setting)
			}
			setting := c.setting[strings.IndexByte(c.setting, '.')+1:]
			if !strings.Contains(p.Detail, setting) {
				t.Errorf("detail %q does not name the setting", p.Detail)
			}
			if rec.calls() != 0 {
				t.Error("something was ingested")
			}
		})
	}
	t.Run("at the limits", func(t *testing.T) {
		src, rec := newTestSource(t, limits)
		// 5 extensions of 3+300 bytes: 1515 bytes, under 2048.
		wantAccepted(t, serve(src, post("", extHeaders(5, 300)...)), rec, 1)
		wantAccepted(t, serve(src, post(structuredWithExt("s", 5, 300), "Content-Type", MediaStructured)), rec, 2)
		wantAccepted(t, serve(src, post("["+structuredWithExt("b", 5, 300)+"]", "Content-Type", MediaBatch)), rec, 3)
	})
	t.Run("defaults", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		wantAccepted(t, serve(src, post("", extHeaders(100, 10)...)), rec, 1)
		p := readProblem(t, serve(src, post("", extHeaders(101, 10)...)), 431)
		if !strings.Contains(p.Detail, "may have 100 extensions") {
			t.Errorf("detail %q", p.Detail)
		}
		readProblem(t, serve(src, post("", extHeaders(2, 33<<10)...)), 431)
	})
}
