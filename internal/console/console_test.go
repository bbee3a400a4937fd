package console_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/console"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

// TestHandlerServesEmbeddedAssets: the page and its files come from the
// binary, with their types, without credentials.
func TestHandlerServesEmbeddedAssets(t *testing.T) {
	h := console.Handler()
	for path, ctype := range map[string]string{
		"/ui/":            "text/html",
		"/ui/app.css":     "text/css",
		"/ui/js/app.js":   "javascript",
		"/ui/js/api.js":   "javascript",
		"/ui/favicon.svg": "image/svg+xml",
	} {
		resp := get(t, h, "GET", path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	if resp := get(t, h, "GET", "/ui"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /ui: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get(t, h, "GET", "/ui/js/nope.js"); resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
	if resp := get(t, h, "POST", "/ui/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	// Every module the page imports is embedded.
	_ = fs.WalkDir(console.Assets(), "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(console.Assets(), p)
		for _, m := range regexp.MustCompile(`from '\./([a-z]+\.js)'`).FindAllStringSubmatch(string(b), -1) {
			if _, err := fs.Stat(console.Assets(), "js/"+m[1]); err != nil {
				t.Errorf("%s imports %s, which is not embedded", p, m[1])
			}
		}
		return nil
	})
}

// TestHandlerSecurityHeaders: a CSP without inline scripts or styles, no
// framing, no sniffing, on every answer.
func TestHandlerSecurityHeaders(t *testing.T) {
	h := console.Handler()
	for _, path := range []string{"/ui/", "/ui/js/app.js", "/ui/nope.js", "/ui"} {
		resp := get(t, h, "GET", path)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q allows too much", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s sets a cookie", path)
		}
	}
}

// TestAssetsHaveNoInlineCode: the CSP forbids inline scripts and styles;
// the files must not need them, and must not build markup from strings.
func TestAssetsHaveNoInlineCode(t *testing.T) {
	a := console.Assets()
	idx, err := fs.ReadFile(a, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(string(idx), -1) {
		if !strings.Contains(m, "src=") {
			t.Errorf("inline script %s", m)
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=|style=|<style|javascript:|https?://`).Match(idx) {
		t.Error("index.html has an inline handler, style, or external URL")
	}
	_ = fs.WalkDir(a, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, _ := fs.ReadFile(a, p)
		b = []byte(strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")) // the SVG namespace
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "document.cookie", "http://", "https://"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
		return nil
	})
}
