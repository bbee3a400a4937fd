package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := NewRoot(&out, &errb)
	root.SetArgs(args)
	err := root.Execute()
	return out.String() + errb.String(), err
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-v"}, {"--version"}} {
		out, err := run(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %q is not JSON", args, out)
		}
		for _, k := range []string{"Version", "Build", "GitTag"} {
			if _, ok := v[k]; !ok {
				t.Errorf("%v: no %s in %s", args, k, out)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("targets: {t: {type: log}}\nrules: {r: {targets: [t]}}\n"), 0o600)
	out, err := run(t, "validate", "-f", good)
	if err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("good: %v %s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("targets:\n  t: {type: http, url: 'ftp://x'}\nrules:\n  r:\n    targets: [nope]\n"), 0o600)
	out, err = run(t, "validate", "-f", bad)
	if err == nil {
		t.Fatal("bad config validated")
	}
	for _, want := range []string{bad + ":2: targets.t.url: must be an http", bad + ":5: rules.r.targets[0]: no target named \"nope\""} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	var ee *exitError
	if e, ok := err.(*exitError); ok {
		ee = e
	}
	if ee == nil || ee.code != 1 {
		t.Errorf("exit code: %v", err)
	}
}

func TestValidatePositionalFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "eb.yaml")
	_ = os.WriteFile(bad, []byte("targets:\n  a: {type: bogus}\n  b: {type: http, url: 'ftp://x'}\nsources:\n  c: {type: nope}\n"), 0o600)
	out, err := run(t, "validate", bad)
	if ee, ok := err.(*exitError); !ok || ee.code != 1 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for _, want := range []string{bad + `:2: targets.a.type: unknown type "bogus"`, bad + ":3: targets.b.url: must be an http", bad + `:5: sources.c.type: unknown type "nope"`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("targets: {t: {type: log}}\n"), 0o600)
	if out, err := run(t, "validate", good); err != nil || !strings.Contains(out, good+": valid") {
		t.Errorf("good as an argument: %v %s", err, out)
	}
	if out, err := run(t, "validate", good, "-f", bad); err == nil || err.(*exitError).code != codeUsage {
		t.Errorf("two files: %v %s", err, out)
	}
}

func TestSend(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	out, err := run(t, "send", "--url", srv.URL, "--type", "com.example.x", "--source", "/s", "--id", "42",
		"--data", `{"total":42}`, "--ext", "myext=€ value", "--subject", "sub")
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	h := got.Header
	if h.Get("Ce-Id") != "42" || h.Get("Ce-Type") != "com.example.x" || h.Get("Ce-Subject") != "sub" ||
		h.Get("Ce-Myext") != "%E2%82%AC%20value" || h.Get("Content-Type") != "application/json" || string(body) != `{"total":42}` {
		t.Fatalf("request headers %v body %s", h, body)
	}
	if !strings.Contains(out, "202") {
		t.Fatalf("output %q", out)
	}
	_, err = run(t, "send", "--url", srv.URL, "--type", "t", "--source", "/s", "--mode", "structured", "--data", `{"a":1}`)
	if err != nil || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/cloudevents+json") || !strings.Contains(string(body), `"data":{"a":1}`) {
		t.Fatalf("structured: %v %s %s", err, got.Header, body)
	}
	if _, err := run(t, "send", "--url", srv.URL, "--type", "t"); err == nil {
		t.Fatal("send without --source accepted")
	}
	if _, err := run(t, "send", "--url", srv.URL, "--type", "t", "--source", "/s", "--data", "{not json"); err == nil {
		t.Fatal("invalid JSON data accepted")
	}
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":"invalid-event"}`))
	}))
	defer refuse.Close()
	if _, err := run(t, "send", "--url", refuse.URL, "--type", "t", "--source", "/s"); err == nil || !strings.Contains(err.Error(), "invalid-event") {
		t.Fatalf("400 not reported: %v", err)
	}
}

func TestPatternTest(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev.json")
	_ = os.WriteFile(ev, []byte(`{"source":"aws.ec2","detail-type":"x","detail":{"state":"running","n":300}}`), 0o600)
	cases := []struct {
		pattern, event, out string
		code                int
	}{
		{`{"source":["aws.ec2"],"detail":{"state":["running"]}}`, "@" + ev, "true", 0},
		{`{"detail":{"n":[{"numeric":["=",3.0e2]}]}}`, "@" + ev, "true", 0},
		{`{"detail":{"state":["stopped"]}}`, "@" + ev, "false", 0},
		{`{"detail":{"n":[{"numeric":[">",5,"<",1]}]}}`, "{}", "pattern.detail.n[0].numeric", 2},
		{`{}`, "{}", "empty pattern", 2},
		{`{"a":["x"]}`, "[1]", "", 2},
	}
	for _, c := range cases {
		out, err := run(t, "pattern", "test", "--pattern", c.pattern, "--event", c.event)
		code := 0
		if e, ok := err.(*exitError); ok {
			code = e.code
		} else if err != nil {
			code = -1
		}
		if code != c.code || !strings.Contains(out, c.out) {
			t.Errorf("%s / %s: code %d output %q; want %d %q", c.pattern, c.event, code, out, c.code, c.out)
		}
	}
}
