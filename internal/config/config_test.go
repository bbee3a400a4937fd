package config

import (
	"strings"
	"testing"
	"time"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all"
	httpc "github.com/eventbridge-dev/eventbridge/internal/connector/http"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

const good = `
bus: {data_dir: ./x, dedup_window: 5m}
api: {listen: 127.0.0.1:9999}
sources:
  web: {type: http, path: /in, max_event_size: 64KiB, token: "${env:EB_TEST_TOKEN}"}
targets:
  out: {type: http, url: "http://127.0.0.1:1/", mode: structured, timeout: 2s}
  stdout: {type: log}
rules:
  r1:
    filter:
      filters: [{prefix: {type: com.example.}}]
    transform: {jq: '{total: .data.total}'}
    targets: [out, stdout]
    delivery: {max_attempts: 3, backoff: {initial: 100ms, max: 1s}}
`

func TestParseGood(t *testing.T) {
	t.Setenv("EB_TEST_TOKEN", "s3cret")
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Bus.DedupWindow.D() != 5*time.Minute || c.Bus.DataDir != "./x" {
		t.Errorf("bus = %+v", c.Bus)
	}
	src := c.Sources["web"].(*httpc.SourceConfig)
	if src.Path != "/in" || src.MaxEventSize != 64<<10 || src.Token.Value() != "s3cret" {
		t.Errorf("source = %+v", src)
	}
	tgt := c.Targets["out"].(*httpc.TargetConfig)
	if tgt.Mode != httpc.ModeStructured || tgt.Timeout.D() != 2*time.Second {
		t.Errorf("target = %+v", tgt)
	}
	r := c.Rules["r1"]
	if r.Delivery.MaxAttempts != 3 || r.Delivery.Backoff.Initial.D() != 100*time.Millisecond || r.Delivery.Concurrency != 32 {
		t.Errorf("rule delivery = %+v", r.Delivery)
	}
	if c.API.Listen != "127.0.0.1:9999" || c.ShutdownTimeout.D() != 30*time.Second {
		t.Errorf("api/shutdown = %+v %v", c.API, c.ShutdownTimeout)
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // "line N: path: reason" fragments
	}{
		{"unknown top-level field", "bogus: 1\n", []string{"line 1", "unknown field \"bogus\""}},
		{"unknown source field", "sources:\n  web:\n    type: http\n    pth: /x\n", []string{"line 4", "unknown field \"pth\""}},
		{"unknown type", "sources:\n  web: {type: carrier-pigeon}\n", []string{"sources.web.type: unknown type \"carrier-pigeon\""}},
		{"missing type", "targets:\n  t: {url: http://x/}\n", []string{"targets.t.type: required"}},
		{"bad target url and mode", "targets:\n  t:\n    type: http\n    url: ftp://x/\n    mode: carrier\n", []string{"line 4: targets.t.url: must be an http", "line 5: targets.t.mode"}},
		{"rule to missing target", "targets:\n  t: {type: log}\nrules:\n  r:\n    targets: [t, nope]\n", []string{"line 5: rules.r.targets[1]: no target named \"nope\""}},
		{"bad filter", "targets:\n  t: {type: log}\nrules:\n  r:\n    filter: {filters: [{exact: {type: 1}}, {bogus: {}}]}\n    targets: [t]\n", []string{"rules.r.filter.filters[0].exact.type: must be a string", "rules.r.filter.filters[1].bogus: unsupported filter dialect"}},
		{"bad sql", "targets:\n  t: {type: log}\nrules:\n  r:\n    filter: {sql: \"type = \"}\n    targets: [t]\n", []string{"rules.r.filter.sql: invalid CESQL"}},
		{"bad jq", "targets:\n  t: {type: log}\nrules:\n  r:\n    transform: {jq: '{a: }'}\n    targets: [t]\n", []string{"rules.r.transform: jq"}},
		{"bad duration", "bus: {ack_wait: soon}\n", []string{"invalid duration \"soon\""}},
		{"bad name", "targets:\n  bad.name: {type: log}\n", []string{"targets.bad.name: invalid name"}},
		{"unset env", "sources:\n  s: {type: http, token: '${env:EB_SURELY_UNSET_VAR}'}\n", []string{"sources.s.token: environment variable EB_SURELY_UNSET_VAR is not set"}},
		{"all problems at once", "targets:\n  a: {type: http, url: ''}\n  b: {type: http, url: 'http://x', timeout: -1s}\n", []string{"targets.a.url: required", "targets.b.timeout: must be positive"}},
		{"syntax error", "sources: [\n", []string{"line 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			got := String(err)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("want %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestExpandFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/tok"
	if err := writeFile(path, "from-file\n"); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("sources:\n  s: {type: http, token: '${file:" + path + "}'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sources["s"].(*httpc.SourceConfig).Token; got.Value() != "from-file" || got.String() != spec.Redacted {
		t.Errorf("token = %q (%s)", got.Value(), got)
	}
}

func TestObjects(t *testing.T) {
	t.Setenv("EB_TEST_TOKEN", "s3cret")
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	c.Path = "/etc/eb.yaml"
	objs := c.Objects()
	if len(objs) != 4 {
		t.Fatalf("%d objects", len(objs))
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, string(o.Kind)+"/"+o.Name)
		if o.Origin != "file" || o.File != "/etc/eb.yaml" {
			t.Errorf("%s: origin %q file %q", o.Key(), o.Origin, o.File)
		}
	}
	if strings.Join(kinds, " ") != "target/out target/stdout rule/r1 source/web" {
		t.Errorf("order: %v", kinds)
	}
	// Secret references stay references in the stored spec.
	if !strings.Contains(string(objs[3].Spec), "${env:EB_TEST_TOKEN}") || strings.Contains(string(objs[3].Spec), "s3cret") {
		t.Errorf("source spec %s", objs[3].Spec)
	}
	if !strings.Contains(string(objs[2].Spec), `"max_attempts":3`) {
		t.Errorf("rule spec %s", objs[2].Spec)
	}
}

func TestUnknownCodec(t *testing.T) {
	_, err := Parse([]byte("sources:\n  s: {type: http, codec: avro}\n"))
	if err == nil || !strings.Contains(String(err), "sources.s.codec: unknown codec \"avro\"") {
		t.Fatalf("%v", err)
	}
}

// Sources on their own listeners share no path: any number of them may
// coexist, while two on the shared server may not take one path.
func TestMountPaths(t *testing.T) {
	ok := "sources:\n  a: {type: http, listen: '127.0.0.1:9001'}\n  b: {type: http, listen: '127.0.0.1:9002'}\n  c: {type: http}\n"
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("two own listeners refused: %v", err)
	}
	dup := "sources:\n  a: {type: http, path: /x}\n  b: {type: http, path: /x}\n"
	if _, err := Parse([]byte(dup)); err == nil || !strings.Contains(err.Error(), "already used by source a") {
		t.Fatalf("duplicate path: %v", err)
	}
}
