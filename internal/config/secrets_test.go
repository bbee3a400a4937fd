package config

import (
	"strings"
	"testing"

	httpc "github.com/eventbridge-dev/eventbridge/internal/connector/http"
)

// The file declares named secrets from its environment and files;
// resources refer to them by name in secret fields.
func TestNamedSecrets(t *testing.T) {
	t.Setenv("EB_TEST_CHAT", "chat-tok")
	path := t.TempDir() + "/db"
	if err := writeFile(path, "db-pass\n"); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`
secrets:
  chat-token: ${env:EB_TEST_CHAT}
  db-pass: ${file:` + path + `}
targets:
  t: {type: http, url: "http://127.0.0.1:9/", headers: {Authorization: "Bearer ${secret:chat-token}"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secrets["chat-token"] != "chat-tok" || c.Secrets["db-pass"] != "db-pass" {
		t.Fatalf("secrets: %q", c.Secrets)
	}
	if h := c.Targets["t"].(*httpc.TargetConfig).Headers["Authorization"]; h.Value() != "Bearer chat-tok" {
		t.Fatalf("header %q", h.Value())
	}
	if !strings.Contains(string(c.Objects()[0].Spec), "${secret:chat-token}") {
		t.Fatalf("stored spec: %s", c.Objects()[0].Spec)
	}
}

// A value read from the environment or a file is never shown in a
// problem, whatever the field.
func TestProblemsHideExpandedValues(t *testing.T) {
	t.Setenv("EB_TEST_MODE", "MARKER-mode-value")
	_, err := Parse([]byte(`
secrets:
  bad.name: x
targets:
  t: {type: http, url: "http://127.0.0.1:9/", mode: "${env:EB_TEST_MODE}", headers: {X: "${secret:nope}"}}
`))
	got := String(err)
	if err == nil || strings.Contains(got, "MARKER") {
		t.Fatalf("%s", got)
	}
	for _, w := range []string{`targets.t.headers.X: no such secret: "nope"`, "secrets.bad.name: invalid name"} {
		if !strings.Contains(got, w) {
			t.Errorf("want %q in:\n%s", w, got)
		}
	}
	_, err = Parse([]byte(`
targets:
  t: {type: http, url: "http://127.0.0.1:9/", mode: "${env:EB_TEST_MODE}"}
`))
	if got := String(err); err == nil || strings.Contains(got, "MARKER") || !strings.Contains(got, `targets.t.mode: must be binary, structured, data or batch, not "***"`) {
		t.Fatalf("%s", got)
	}
}
