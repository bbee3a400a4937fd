package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeBridge answers GET /v1/rules with no rules and records who asked.
type fakeBridge struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newFakeBridge(t *testing.T) *fakeBridge {
	f := &fakeBridge{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBridge) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auth) == 0 {
		return "(no request)"
	}
	return f.auth[len(f.auth)-1]
}

func TestConnectionPrecedence(t *testing.T) {
	isolate(t)
	fileSrv, envSrv, flagSrv, ctxSrv := newFakeBridge(t), newFakeBridge(t), newFakeBridge(t), newFakeBridge(t)
	cfg := writeFile(t, "config.yaml", `
server: `+fileSrv.URL+`
token: file-token
contexts:
  staging: {server: `+ctxSrv.URL+`, token: ctx-token}
  tokenonly: {token: ctx-only-token}
`)
	t.Setenv(envConfig, cfg)
	get := func(args ...string) result {
		t.Helper()
		r := cli(t, "", append(args, "get", "rules", "-o", "name")...)
		if r.code != 0 {
			t.Fatalf("%v: %v", args, r)
		}
		return r
	}

	get()
	if got := fileSrv.last(); got != "Bearer file-token" {
		t.Errorf("from the file: %q", got)
	}
	get("--context", "staging")
	if got := ctxSrv.last(); got != "Bearer ctx-token" {
		t.Errorf("--context: %q", got)
	}
	t.Setenv(envContext, "tokenonly")
	get()
	if got := fileSrv.last(); got != "Bearer ctx-only-token" {
		t.Errorf("env context over the file's top level: %q", got)
	}
	t.Setenv(envContext, "")

	t.Setenv(envServer, envSrv.URL)
	t.Setenv(envToken, "env-token")
	get()
	if got := envSrv.last(); got != "Bearer env-token" {
		t.Errorf("env over the file: %q", got)
	}
	get("--context", "staging")
	if got := envSrv.last(); got != "Bearer env-token" {
		t.Errorf("env over a context: %q", got)
	}
	get("--server", flagSrv.URL, "--token", "flag-token")
	if got := flagSrv.last(); got != "Bearer flag-token" {
		t.Errorf("flags over env: %q", got)
	}
	get("--server", strings.TrimPrefix(flagSrv.URL, "http://"))
	if got := flagSrv.last(); got != "Bearer env-token" {
		t.Errorf("server without a scheme, env token: %q", got)
	}

	t.Setenv(envServer, "")
	t.Setenv(envToken, "")
	t.Setenv(envConfig, writeFile(t, "current.yaml", strings.Replace(mustRead(t, cfg), "contexts:", "current_context: staging\ncontexts:", 1)))
	get()
	if got := ctxSrv.last(); got != "Bearer ctx-token" {
		t.Errorf("current_context: %q", got)
	}

	if r := cli(t, "", "--context", "nope", "get", "rules"); r.code != 2 || !strings.Contains(r.err, `no context "nope"`) {
		t.Errorf("unknown context: %v", r)
	}
	t.Setenv(envConfig, writeFile(t, "bad.yaml", "sever: typo\n"))
	if r := cli(t, "", "get", "rules"); r.code != 2 || !strings.Contains(r.err, "sever") {
		t.Errorf("bad config file: %v", r)
	}
}

func TestSendKeepsItsToken(t *testing.T) {
	isolate(t)
	t.Setenv(envToken, "api-token")
	f := newFakeBridge(t)
	if r := cli(t, "", "send", "--url", f.URL, "--token", "source-token", "--type", "t", "--source", "/s"); r.code != 0 || f.last() != "Bearer source-token" {
		t.Errorf("send --token: %v %q", r, f.last())
	}
	if r := cli(t, "", "--token", "x", "send", "--url", f.URL, "--type", "t", "--source", "/s"); r.code != 0 || f.last() != "Bearer x" {
		t.Errorf("send after --token: %v %q", r, f.last())
	}
	t.Setenv("EVENTBRIDGE_SOURCE_TOKEN", "")
	if r := cli(t, "", "send", "--url", f.URL, "--type", "t", "--source", "/s"); r.code != 0 || f.last() != "" {
		t.Errorf("send uses the API token: %v %q", r, f.last())
	}
}

func TestErrorReport(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"x","title":"Authentication is required","status":401,"code":"unauthorized","detail":"unknown token"}`))
	}))
	defer srv.Close()
	r := cli(t, srv.URL, "get", "rules")
	if r.code != 1 || !strings.HasPrefix(r.err, "error: Authentication is required: unknown token\n  (set a token with --token") {
		t.Errorf("%v", r)
	}
}
