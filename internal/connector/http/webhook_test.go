package http

import (
	"bufio"
	"errors"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// The HTTP binding and webhook examples (testdata/bindings/spec-examples).
// Skipped because they are not complete requests:
//   - http-protocol-binding_01, _04, _07: "... further attributes ..." and
//     "... application data ..." placeholders;
//   - http-protocol-binding_02, _05, _08: responses, with the same
//     placeholders;
//   - http-protocol-binding_03, _06: a lone Content-Type header, used by
//     TestModeDetection instead.
//
// http-webhook_01 and _02 are complete request heads (no event): the event
// headers are added to them. _03 to _05 are handshake request headers, _06
// to _08 the grant headers a target answers with.

// webhookToken is the token of http-webhook_01.txt and _02.txt.
const webhookToken = "mF_9.B5f-4.1JqM"

// readWebhookHead parses a request head from a webhook example and gives it
// a valid binary-mode event.
func readWebhookHead(t *testing.T, name string) *nethttp.Request {
	t.Helper()
	raw := strings.TrimRight(string(readFixture(t, "bindings/spec-examples/"+name)), "\n") + "\n\n"
	req, err := nethttp.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h := binaryHeaders()
	for i := 0; i < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	return req
}

// fixtureHeader reads the one "Name: value" line of a webhook example.
func fixtureHeader(t *testing.T, name string) (string, string) {
	t.Helper()
	k, v, ok := strings.Cut(strings.TrimSpace(string(readFixture(t, "bindings/spec-examples/"+name))), ":")
	if !ok {
		t.Fatalf("%s: not a header line", name)
	}
	return k, strings.TrimSpace(v)
}

func TestBearerToken(t *testing.T) {
	withToken := func(c *SourceConfig) { c.Token = spec.Secret(webhookToken) }
	accepted := map[string]*nethttp.Request{
		"http-webhook_01 (Authorization header)": readWebhookHead(t, "http-webhook_01.txt"),
		"http-webhook_02 (access_token query)":   readWebhookHead(t, "http-webhook_02.txt"),
	}
	lower := post("", binaryHeaders("authorization", "bearer "+webhookToken)...)
	accepted["scheme is case-insensitive"] = lower
	for name, req := range accepted {
		t.Run(name, func(t *testing.T) {
			src, rec := newTestSource(t, withToken)
			wantAccepted(t, serve(src, req), rec, 1)
		})
	}
	refused := map[string]*nethttp.Request{
		"no token":             post("", binaryHeaders()...),
		"wrong token":          post("", binaryHeaders("Authorization", "Bearer nope")...),
		"token in Basic":       post("", binaryHeaders("Authorization", "Basic "+webhookToken)...),
		"empty bearer":         post("", binaryHeaders("Authorization", "Bearer ")...),
		"token prefix":         post("", binaryHeaders("Authorization", "Bearer "+webhookToken[:5])...),
		"wrong query token":    request("POST", "/events?access_token=nope", binaryHeaders()),
		"empty query token":    request("POST", "/events?access_token=", binaryHeaders()),
		"query and bad bearer": request("POST", "/events?access_token="+webhookToken, binaryHeaders("Authorization", "Bearer nope")),
	}
	for name, req := range refused {
		t.Run(name, func(t *testing.T) {
			src, rec := newTestSource(t, withToken)
			w := serve(src, req)
			readProblem(t, w, 401)
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate")
			}
			if rec.calls() != 0 {
				t.Error("an unauthorized event was ingested")
			}
		})
	}
}

// request builds a body-less request with header name/value pairs.
func request(method, target string, hdr []string) *nethttp.Request {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return req
}

func TestWebhookHandshake(t *testing.T) {
	_, origin := fixtureHeader(t, "http-webhook_03.txt")
	_, callback := fixtureHeader(t, "http-webhook_04.txt")
	_, rate := fixtureHeader(t, "http-webhook_05.txt")
	_, grantedOrigin := fixtureHeader(t, "http-webhook_06.txt") // the same origin
	_, anyOrigin := fixtureHeader(t, "http-webhook_07.txt")     // "*"
	_, grantedRate := fixtureHeader(t, "http-webhook_08.txt")   // "100"

	options := func(hdr ...string) *nethttp.Request { return request(nethttp.MethodOptions, "/events", hdr) }
	t.Run("grant to a listed origin", func(t *testing.T) {
		src, rec := newTestSource(t, func(c *SourceConfig) {
			c.AllowedOrigins = []string{grantedOrigin}
			c.AllowedRate = grantedRate
		})
		w := serve(src, options("WebHook-Request-Origin", origin, "WebHook-Request-Rate", rate))
		if w.Code != 200 {
			t.Errorf("status %d", w.Code)
		}
		if got := w.Header().Get("WebHook-Allowed-Origin"); got != grantedOrigin {
			t.Errorf("WebHook-Allowed-Origin %q, want %q", got, grantedOrigin)
		}
		if got := w.Header().Get("WebHook-Allowed-Rate"); got != grantedRate {
			t.Errorf("WebHook-Allowed-Rate %q, want %q", got, grantedRate)
		}
		checkAllow(t, w.Header())
		if rec.calls() != 0 {
			t.Error("a handshake ingested something")
		}
	})
	t.Run("grant to any origin", func(t *testing.T) {
		src, _ := newTestSource(t, nil) // AllowedOrigins ["*"], rate "*"
		// The callback is for targets that grant later; this one grants at once.
		w := serve(src, options("WebHook-Request-Origin", origin, "WebHook-Request-Callback", callback))
		if got := w.Header().Get("WebHook-Allowed-Origin"); got != origin && got != anyOrigin {
			t.Errorf("WebHook-Allowed-Origin %q, want %q or %q", got, origin, anyOrigin)
		}
		if got := w.Header().Get("WebHook-Allowed-Rate"); got != "*" {
			t.Errorf("WebHook-Allowed-Rate %q, want *", got)
		}
		checkAllow(t, w.Header())
	})
	t.Run("origin compared case-insensitively", func(t *testing.T) {
		src, _ := newTestSource(t, func(c *SourceConfig) { c.AllowedOrigins = []string{strings.ToUpper(grantedOrigin)} })
		w := serve(src, options("WebHook-Request-Origin", origin))
		if w.Header().Get("WebHook-Allowed-Origin") == "" {
			t.Error("no grant")
		}
	})
	t.Run("no consent to another origin", func(t *testing.T) {
		src, _ := newTestSource(t, func(c *SourceConfig) { c.AllowedOrigins = []string{"other.example.com"} })
		w := serve(src, options("WebHook-Request-Origin", origin, "WebHook-Request-Rate", rate))
		for _, h := range []string{"WebHook-Allowed-Origin", "WebHook-Allowed-Rate"} {
			if v := w.Header().Get(h); v != "" {
				t.Errorf("%s: %q sent without consent", h, v)
			}
		}
		checkAllow(t, w.Header())
	})
	t.Run("plain OPTIONS", func(t *testing.T) {
		src, _ := newTestSource(t, nil)
		w := serve(src, options())
		if w.Code >= 300 {
			t.Errorf("status %d", w.Code)
		}
		checkAllow(t, w.Header())
	})
}

func checkAllow(t *testing.T, h nethttp.Header) {
	t.Helper()
	allow := h.Get("Allow")
	for _, m := range []string{"POST", "OPTIONS"} {
		if !strings.Contains(allow, m) {
			t.Errorf("Allow %q lacks %s", allow, m)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	for _, m := range []string{"GET", "DELETE", "PATCH", "HEAD"} {
		t.Run(m, func(t *testing.T) {
			src, rec := newTestSource(t, nil)
			w := serve(src, request(m, "/events", binaryHeaders()))
			if m == "HEAD" {
				// No body for HEAD; the status and Allow are what count.
				if w.Code != 405 {
					t.Errorf("status %d, want 405", w.Code)
				}
			} else {
				readProblem(t, w, 405)
			}
			checkAllow(t, w.Header())
			if rec.calls() != 0 {
				t.Error("something was ingested")
			}
		})
	}
	t.Run("PUT", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		wantAccepted(t, serve(src, request("PUT", "/events", binaryHeaders())), rec, 1)
	})
}

func TestIngestFailure(t *testing.T) {
	src, rec := newTestSource(t, nil)
	rec.err = errors.New("bus down")
	w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...))
	p := readProblem(t, w, 503)
	if p.Code != "unavailable" {
		t.Errorf("code %q", p.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra == "" || strings.TrimLeft(ra, "0123456789") != "" {
		t.Errorf("Retry-After %q, want seconds", ra)
	}
}

func TestWrap(t *testing.T) {
	wrap := func(c *SourceConfig) { c.Wrap = &Wrap{Type: "com.example.wrapped", Source: "/wrapped"} }
	t.Run("plain JSON", func(t *testing.T) {
		src, rec := newTestSource(t, wrap)
		before := time.Now().Add(-time.Second)
		body := `{"hello": "world"}`
		e := wantAccepted(t, serve(src, post(body, "Content-Type", "application/json")), rec, 1)[0]
		if _, err := uuid.Parse(e.ID()); err != nil {
			t.Errorf("id %q is not a generated UUID", e.ID())
		}
		if e.Type() != "com.example.wrapped" || e.Source() != "/wrapped" || e.SpecVersion() != "1.0" {
			t.Errorf("type %q source %q specversion %q", e.Type(), e.Source(), e.SpecVersion())
		}
		if ts := e.Time(); ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("time %s is not now", ts)
		}
		if e.DataContentType() != "application/json" || string(e.Data()) != body {
			t.Errorf("datacontenttype %q data %q", e.DataContentType(), e.Data())
		}
	})
	t.Run("ids differ", func(t *testing.T) {
		src, rec := newTestSource(t, wrap)
		serve(src, post("{}", "Content-Type", "application/json"))
		serve(src, post("{}", "Content-Type", "application/json"))
		got := rec.events()
		if len(got) != 2 || got[0].ID() == got[1].ID() {
			t.Errorf("wrapped events share an id")
		}
	})
	t.Run("binary data", func(t *testing.T) {
		src, rec := newTestSource(t, wrap)
		body := "\xff\x00\xfe binary"
		e := wantAccepted(t, serve(src, post(body, "Content-Type", "application/octet-stream")), rec, 1)[0]
		if string(e.Data()) != body {
			t.Errorf("data %q, want %q", e.Data(), body)
		}
	})
	t.Run("no content type", func(t *testing.T) {
		src, rec := newTestSource(t, wrap)
		e := wantAccepted(t, serve(src, post("not json")), rec, 1)[0]
		if string(e.Data()) != "not json" {
			t.Errorf("data %q", e.Data())
		}
	})
	t.Run("CloudEvents still decoded", func(t *testing.T) {
		src, rec := newTestSource(t, wrap)
		e := wantAccepted(t, serve(src, post("{}", binaryHeaders("Content-Type", "application/json")...)), rec, 1)[0]
		if e.ID() != "id-1" || e.Type() != "com.example.test" {
			t.Errorf("a binary-mode event was wrapped: %s", e)
		}
		e = wantAccepted(t, serve(src, post(structuredEvent("s1", 1), "Content-Type", MediaStructured)), rec, 2)[1]
		if e.ID() != "s1" {
			t.Errorf("a structured event was wrapped: %s", e)
		}
	})
	t.Run("wrapped body over the limit", func(t *testing.T) {
		src, rec := newTestSource(t, func(c *SourceConfig) { wrap(c); smallLimits(c) })
		readProblem(t, serve(src, post(strings.Repeat("x", testMaxEvent+1), "Content-Type", "text/plain")), 413)
		if rec.calls() != 0 {
			t.Error("ingested")
		}
	})
	t.Run("without wrap a plain POST is invalid", func(t *testing.T) {
		src, _ := newTestSource(t, nil)
		readProblem(t, serve(src, post(`{"hello":"world"}`, "Content-Type", "application/json")), 400)
	})
}
