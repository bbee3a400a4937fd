package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	ebapi "github.com/eventbridge-dev/eventbridge/internal/api"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestOpenAPIContract holds every registered API route against the
// OpenAPI document: each route has an example request here, each example
// is found in the document, and each response validates against it.
func TestOpenAPIContract(t *testing.T) {
	ctx := context.Background()
	// GET /v1/logs answers newline-delimited JSON: a string to the document.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(ebapi.OpenAPI())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, yamlf(`
api: {allow_private_sinks: true}
sources: {in: {type: http, path: /events}, tick: {type: cron, at: "2099-01-01T00:00:00Z"}}
targets: {out: {type: http, url: %q}, filelog: {type: log, file: /dev/null}}
rules: {r: {targets: [out]}}
`, sink.URL))
	base := "http://" + b.Addr()
	doc.Servers = openapi3.Servers{{URL: base}} // the document names the default address
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, b, "contract-1")
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 }, "no dead letter")
	from := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)

	type example struct {
		method, path, body string
		header             map[string]string
	}
	examples := []example{
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
		{"GET", "/metrics", "", nil},
		{"GET", "/v1/openapi.json", "", nil},
		{"GET", "/v1/sources", "", nil},
		{"GET", "/v1/targets?label=team=a&limit=10", "", nil},
		{"GET", "/v1/rules", "", nil},
		{"GET", "/v1/sources/in", "", nil},
		{"GET", "/v1/targets/out", "", nil},
		{"GET", "/v1/rules/r", "", nil},
		{"GET", "/v1/rules/nope", "", nil},
		{"PUT", "/v1/targets/api-t", `{"type":"log","file":"/dev/null"}`, nil},
		{"PUT", "/v1/targets/api-t", `{"type":"log","file":"/dev/null"}`, map[string]string{"If-Match": `"1"`}},
		{"PUT", "/v1/sources/api-s", `{"type":"http","path":"/api-s"}`, nil},
		{"PUT", "/v1/rules/api-r", `{"targets":["api-t"]}`, nil},
		{"PUT", "/v1/rules/bad", `{"targets":["nope"]}`, nil},
		{"PUT", "/v1/rules/api-p?pending_sources=later", `{"sources":["later"],"targets":["api-t"]}`, nil},
		{"PUT", "/v1/targets/filelog", `{"type":"log"}`, nil},
		{"POST", "/v1/rules/api-r:pause", "", nil},
		{"POST", "/v1/rules/api-r:resume", "", nil},
		{"POST", "/v1/targets/api-t:pause", "", nil},
		{"POST", "/v1/targets/api-t:resume", "", nil},
		{"POST", "/v1/sources/api-s:pause", "", nil},
		{"POST", "/v1/sources/api-s:resume", "", nil},
		{"POST", "/v1/rules:test", `{"rule":"r","events":[{"specversion":"1.0","id":"1","source":"/s","type":"t"}]}`, nil},
		{"GET", "/v1/rules/r/deadletters", "", nil},
		{"GET", "/v1/rules/r/deadletters/1", "", nil},
		{"POST", "/v1/rules/r/deadletters/1:redrive", "", nil},
		{"POST", "/v1/rules/r/deadletters:redrive", `{"type":"com.example.test"}`, nil},
		{"POST", "/v1/rules/r/deadletters:purge", "", nil},
		{"GET", "/v1/redrives", "", nil},
		{"POST", "/v1/replays", fmt.Sprintf(`{"rule":"r","from":%q}`, from), nil},
		{"GET", "/v1/replays", "", nil},
		{"GET", "/v1/events?limit=5", "", nil},
		{"GET", "/v1/eventtypes", "", nil},
		{"GET", "/v1/whoami", "", nil},
		{"GET", "/v1/activity", "", nil},
		{"GET", "/v1/state?limit=5", "", nil},
		{"GET", "/v1/state?key=nope", "", nil},
		{"GET", "/v1/state/nope", "", nil},
		{"POST", "/v1/subscriptions", `{"sink":"http://127.0.0.1:9/","protocol":"HTTP","types":["x"]}`, nil},
		{"POST", "/v1/subscriptions", `{"protocol":"HTTP"}`, nil},
		{"GET", "/v1/subscriptions", "", nil},
		{"OPTIONS", "/v1/subscriptions", "", nil},
		{"GET", "/v1/loggers", "", nil},
		{"PUT", "/v1/loggers/router", `{"level":"debug"}`, nil},
		{"PUT", "/v1/loggers/route%2F", `{"level":"info"}`, nil},
		{"PUT", "/v1/loggers/*", `{"level":"loud"}`, nil},
		{"GET", "/v1/logs?level=warn&tail=5&since=1h", "", nil},
		{"GET", "/v1/logs?level=loud", "", nil},
		{"GET", "/v1/jobs", "", nil},
		{"GET", "/v1/jobs/tick", "", nil},
		{"GET", "/v1/jobs/nope", "", nil},
		{"POST", "/v1/jobs/tick:pause", "", nil},
		{"POST", "/v1/jobs/tick:resume", "", nil},
		{"POST", "/v1/jobs/tick:run", "", nil},
		{"POST", "/v1/jobs/nope:run", "", nil},
		{"GET", "/v1/scheduler", "", nil},
		{"POST", "/v1/oran:import", `{"dry_run":true,"items":[{"id":"i1","resource":"/sync/ptp-status/lock-state","endpoint_uri":"http://127.0.0.1:9/event"}]}`, nil},
		{"POST", "/v1/oran:import", `{"items":[{"kind":"x"}]}`, nil},
		{"DELETE", "/v1/rules/api-r", "", nil},
		{"DELETE", "/v1/rules/api-p", "", nil},
		{"DELETE", "/v1/targets/api-t", "", nil},
		{"DELETE", "/v1/sources/api-s", "", nil},
	}
	// Routes whose example needs an id from another response.
	var redriveID, replayID, subID string

	registered := http.NewServeMux()
	for _, r := range b.API().Routes() {
		registered.HandleFunc(r.Method+" "+r.Path, func(http.ResponseWriter, *http.Request) {})
	}
	registered.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	covered := map[string]bool{}

	run := func(ex example) (int, []byte, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(ex.method, base+ex.path, strings.NewReader(ex.body))
		if ex.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range ex.header {
			req.Header.Set(k, v)
		}
		if _, pattern := registered.Handler(req); pattern != "" {
			covered[pattern] = true
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not in the OpenAPI document: %v", ex.method, ex.path, err)
			return 0, nil, nil
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		reqErr := openapi3filter.ValidateRequest(ctx, in)
		req.Body = io.NopCloser(strings.NewReader(ex.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Requests that succeed must fit the document; the ones that are
		// refused are meant to be wrong.
		if reqErr != nil && resp.StatusCode < 400 {
			t.Errorf("%s %s: the example request does not fit the document, yet succeeded: %v", ex.method, ex.path, reqErr)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s -> %d: the response does not fit the document: %v\n%s", ex.method, ex.path, resp.StatusCode, err, trim(body))
		}
		return resp.StatusCode, body, resp.Header
	}
	for _, ex := range examples {
		_, _, hdr := run(ex)
		switch {
		case ex.path == "/v1/rules/r/deadletters:redrive":
			redriveID = strings.TrimPrefix(hdr.Get("Location"), "/v1/redrives/")
		case ex.method == "POST" && ex.path == "/v1/replays":
			replayID = strings.TrimPrefix(hdr.Get("Location"), "/v1/replays/")
		case ex.method == "POST" && ex.path == "/v1/subscriptions" && hdr.Get("Location") != "":
			subID = strings.TrimPrefix(hdr.Get("Location"), "/v1/subscriptions/")
		}
	}
	run(example{"GET", "/v1/redrives/" + redriveID, "", nil})
	run(example{"GET", "/v1/replays/" + replayID, "", nil})
	run(example{"DELETE", "/v1/replays/" + replayID, "", nil})
	run(example{"GET", "/v1/subscriptions/" + subID, "", nil})
	run(example{"PUT", "/v1/subscriptions/" + subID, `{"sink":"http://127.0.0.1:9/","protocol":"HTTP"}`, nil})
	run(example{"OPTIONS", "/v1/subscriptions/" + subID, "", nil})
	run(example{"DELETE", "/v1/subscriptions/" + subID, "", nil})
	run(example{"GET", "/v1/subscriptions/nope", "", nil})
	// The live stream: only the headers are checked (the body never ends).
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	sreq, _ := http.NewRequestWithContext(sctx, "GET", base+"/v1/events:stream?type=x", nil)
	if _, pattern := registered.Handler(sreq); pattern != "" {
		covered[pattern] = true
	}
	if _, _, err := router.FindRoute(sreq); err != nil {
		t.Errorf("/v1/events:stream not in the document: %v", err)
	}
	if resp, err := http.DefaultClient.Do(sreq); err != nil || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("stream: %v", err)
	} else {
		resp.Body.Close()
	}

	for _, r := range b.API().Routes() {
		if !covered[r.Method+" "+r.Path] {
			t.Errorf("route %s %s has no example request in this test (add one, and document it)", r.Method, r.Path)
		}
	}
}

func trim(b []byte) string {
	if len(b) > 400 {
		b = append(bytes.Clone(b[:400]), "..."...)
	}
	return string(b)
}
