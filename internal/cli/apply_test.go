package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestApplyGetDescribeDelete(t *testing.T) {
	sink := testkit.NewSink(t)
	url := startBridge(t, `
secrets: {chat-token: tok}
api: {allow_private_addresses: true} # the applied target posts to a loopback sink
sources: {in: {type: http, path: /events}}
targets: {filelog: {type: log, file: /dev/null}}
rules: {fromfile: {targets: [filelog], filter: {sql: "type = 'never'"}}}
`)
	file := writeFile(t, "pipeline.yaml", fmt.Sprintf(`
bus: {data_dir: ./elsewhere}
log: {level: debug}
instance: {name: elsewhere}
rules:
  orders:
    sources: [web]
    targets: [chat]
    filter: {filters: [{prefix: {type: com.example.order.}}]}
    labels: {team: shop}
targets:
  chat:
    type: http
    url: %q
    headers: {X-Ref: "${secret:chat-token}"}
    labels: {team: shop}
sources:
  web: {type: http, path: /web}
`, sink.URL))

	r := cli(t, url, "apply", "-f", file)
	if r.code != 0 {
		t.Fatalf("apply: %v", r)
	}
	wantInOrder(t, "apply", r.out, "target/chat created", "rule/orders created", "source/web created")
	wantInOrder(t, "apply note", r.err, "skipped bus, instance, log")

	r = cli(t, url, "apply", "-f", file)
	if r.code != 0 || strings.Count(r.out, "unchanged") != 3 {
		t.Fatalf("apply again: %v", r)
	}

	changed := strings.Replace(mustRead(t, file), "com.example.order.", "com.example.", 1)
	_ = os.WriteFile(file, []byte(changed), 0o600)
	before := cli(t, url, "get", "rule", "orders", "-o", "json")
	r = cli(t, url, "apply", "-f", file, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "rule/orders configured (dry run; changed: filter)") || !strings.Contains(r.out, "target/chat unchanged") {
		t.Fatalf("dry run: %v", r)
	}
	if after := cli(t, url, "get", "rule", "orders", "-o", "json"); revision(t, after.out) != revision(t, before.out) {
		t.Fatal("dry run changed the rule")
	}
	if r = cli(t, url, "apply", "-f", file); r.code != 0 || !strings.Contains(r.out, "rule/orders configured\n") {
		t.Fatalf("apply a change: %v", r)
	}

	// get: table, json, yaml, name, labels.
	r = cli(t, url, "get", "rules")
	wantInOrder(t, "get rules", r.out, "NAME", "TARGETS", "ORIGIN", "STATE", "AGE", "fromfile", "filelog", "file", "running", "orders", "chat", "api", "running")
	r = cli(t, url, "get", "tgt", "-o", "json")
	var list struct {
		Items []struct {
			Name   string
			Origin string
			Status struct{ State string }
		}
	}
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list.Items) != 2 || list.Items[0].Name != "chat" || list.Items[0].Status.State != "running" {
		t.Fatalf("get -o json: %v %v", err, r)
	}
	if r = cli(t, url, "get", "source", "web", "-o", "yaml"); !strings.Contains(r.out, "name: web\n") || !strings.Contains(r.out, "path: /web") {
		t.Errorf("get -o yaml: %v", r)
	}
	if r = cli(t, url, "get", "targets", "-l", "team=shop", "-o", "name"); r.out != "target/chat\n" {
		t.Errorf("get -l: %v", r)
	}
	if r = cli(t, url, "get", "src", "in", "web"); r.code != 0 || !strings.Contains(r.out, "in ") || !strings.Contains(r.out, "web ") || !strings.Contains(r.out, "TYPE") {
		t.Errorf("get by names: %v", r)
	}
	if r = cli(t, url, "get", "src", "in", "nope"); r.code != 1 || !strings.Contains(r.out, "in ") || !strings.Contains(r.err, `error: source/nope: Not found: no source named "nope"`) {
		t.Errorf("get a missing name among others: %v", r)
	}
	if r = cli(t, url, "get", "src", "nope"); r.code != 1 || r.err != "error: Not found: no source named \"nope\"\n" {
		t.Errorf("get a missing name: %v", r)
	}

	r = cli(t, url, "describe", "rule", "orders")
	if r.code != 0 {
		t.Fatal(r)
	}
	wantInOrder(t, "describe", r.out, "Name:", "orders", "Origin:", "api", "Labels:", "team=shop", "State:", "running",
		"Spec:", "targets:", "- chat", "Components:", "route/orders/chat", "running", "Counters:", "matched:")
	if r = cli(t, url, "describe", "target", "chat"); !strings.Contains(r.out, "X-Ref: ${secret:chat-token}") {
		t.Errorf("describe target: %v", r)
	}

	// The bridge's own file's resources cannot change.
	conflict := writeFile(t, "conflict.yaml", "targets: {filelog: {type: log, file: /tmp/other}}\n")
	r = cli(t, url, "apply", "-f", conflict)
	if r.code != 1 || !strings.Contains(r.err, `error: target/filelog: The request conflicts with the current state: target "filelog" is defined in the config file `) || !strings.Contains(r.err, "eventbridge.yaml and is read-only through the API") {
		t.Errorf("apply over a file resource: %v", r)
	}
	if r = cli(t, url, "apply", "-f", conflict, "--dry-run"); r.code != 1 || !strings.Contains(r.err, "cannot change (file differ)") {
		t.Errorf("dry run over a file resource: %v", r)
	}
	if r = cli(t, url, "delete", "rule", "fromfile"); r.code != 1 || !strings.Contains(r.err, "is defined in the config file") {
		t.Errorf("delete a file resource: %v", r)
	}

	// Invalid specs: each field error on its own line, with its place.
	bad := writeFile(t, "bad.yaml", "targets:\n  t9:\n    type: http\n    url: ftp://nope\nrules:\n  r9:\n    targets:\n      - nope\n")
	r = cli(t, url, "apply", "-f", bad)
	if r.code != 1 {
		t.Fatal(r)
	}
	wantInOrder(t, "invalid", r.err,
		"error: target/t9: The resource is not valid\n", bad+":4: targets.t9.url: must be an http",
		"error: rule/r9: The resource is not valid\n", bad+":8: rules.r9.targets[0]: no target named \"nope\"",
		"error: 2 of 2 resources not applied")

	// ${env:…} belongs to the bridge's own config file: apply is told to
	// declare a named secret, and nothing of the environment is read.
	t.Setenv("EB_CLI_TEST_SECRET", "MARKER-cli-31")
	envref := writeFile(t, "envref.yaml", "secrets: {x: y}\ntargets:\n  t8:\n    type: http\n    url: http://127.0.0.1:9/\n    headers: {X: \"${env:EB_CLI_TEST_SECRET}\"}\n")
	r = cli(t, url, "apply", "-f", envref)
	if r.code != 1 || !strings.Contains(r.err, "targets.t8.headers.X: ${env:…} and ${file:…} references are only expanded in the bridge's config file") ||
		!strings.Contains(r.err, "(secrets:) and write ${secret:NAME}") || !strings.Contains(r.err, "skipped secrets") || strings.Contains(r.err+r.out, "MARKER") {
		t.Errorf("apply with ${env:}: %v", r)
	}

	// Deletes.
	if r = cli(t, url, "delete", "target", "chat"); r.code != 1 || !strings.Contains(r.err, "used by rule(s) orders") {
		t.Errorf("delete a target in use: %v", r)
	}
	r = cli(t, url, "delete", "-f", file)
	if r.code != 0 {
		t.Fatal(r)
	}
	wantInOrder(t, "delete -f", r.out, "rule/orders deleted", "source/web deleted", "target/chat deleted")
	if r = cli(t, url, "delete", "rule", "orders"); r.code != 1 || !strings.Contains(r.err, `no rule named "orders"`) {
		t.Errorf("delete a missing rule: %v", r)
	}
	if r = cli(t, url, "delete", "rule", "orders", "--ignore-not-found"); r.code != 0 {
		t.Errorf("--ignore-not-found: %v", r)
	}
	if r = cli(t, url, "get", "rules", "-l", "team=shop"); r.out != "No rules found.\n" {
		t.Errorf("after delete: %v", r)
	}
}

func TestPauseResumeAndCompletion(t *testing.T) {
	url := startBridge(t, `
targets: {t: {type: log, file: /dev/null}}
rules: {r1: {targets: [t]}, r2: {targets: [t]}}
`)
	if r := cli(t, url, "pause", "r1", "r2"); r.code != 0 || r.out != "rule/r1 paused\nrule/r2 paused\n" {
		t.Fatal(r)
	}
	if r := cli(t, url, "get", "rule", "r1"); !strings.Contains(r.out, "paused") {
		t.Errorf("state: %v", r)
	}
	if r := cli(t, url, "resume", "r1"); r.code != 0 || r.out != "rule/r1 resumed\n" {
		t.Fatal(r)
	}
	if r := cli(t, url, "pause", "nope"); r.code != 1 || !strings.Contains(r.err, `no rule named "nope"`) {
		t.Errorf("pause a missing rule: %v", r)
	}
	// Sources and targets, with the kind first.
	if r := cli(t, url, "pause", "target", "t"); r.code != 0 || r.out != "target/t paused\n" {
		t.Fatal(r)
	}
	if r := cli(t, url, "get", "target", "t"); !strings.Contains(r.out, "paused") {
		t.Errorf("target state: %v", r)
	}
	if r := cli(t, url, "resume", "tgt", "t"); r.code != 0 || r.out != "target/t resumed\n" {
		t.Fatal(r)
	}
	if r := cli(t, url, "get", "target", "t"); strings.Contains(r.out, "paused") {
		t.Errorf("target state after resume: %v", r)
	}
	if r := cli(t, url, "pause", "source", "nope"); r.code != 1 || !strings.Contains(r.err, `no source named "nope"`) {
		t.Errorf("pause a missing source: %v", r)
	}

	r := cli(t, url, "__complete", "get", "rule", "")
	if !strings.Contains(r.out, "r1\nr2\n") {
		t.Errorf("completion of names: %v", r)
	}
	if r = cli(t, url, "__complete", "get", "rule", "r1", ""); strings.Contains(r.out, "r1\n") {
		t.Errorf("completion repeats a name given: %v", r)
	}
	if r = cli(t, url, "__complete", "get", ""); !strings.Contains(r.out, "rules\n") {
		t.Errorf("completion of kinds: %v", r)
	}
	if r = cli(t, url, "__complete", "replay", "--rule", ""); !strings.Contains(r.out, "r2\n") {
		t.Errorf("completion of --rule: %v", r)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := cli(t, "", "completion", sh); r.code != 0 || len(r.out) < 100 {
			t.Errorf("completion %s: %v", sh, r)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"get"}, {"get", "pods"}, {"get", "rules", "-o", "xml"}, {"get", "rules", "--bogus"}, {"bogus"},
		{"apply"}, {"apply", "-f", "/nonexistent.yaml"}, {"describe", "rule"}, {"delete", "rule"},
		{"dlq", "bogus"}, {"dlq", "redrive", "r"}, {"dlq", "show", "r", "x"}, {"dlq", "purge", "r"},
		{"replay", "--rule", "r"}, {"replay", "--rule", "r", "--from", "yesterday"}, {"tail", "x"},
		{"--server", "ftp://x", "get", "rules"},
	} {
		if r := cli(t, "", args...); r.code != 2 || !strings.HasPrefix(r.err, "error: ") {
			t.Errorf("%v: %v", args, r)
		}
	}
	bad := writeFile(t, "bad.yaml", "targets: {t: {type: log}}\nwhatever: 1\n")
	if r := cli(t, "", "apply", "-f", bad); r.code != 2 || !strings.Contains(r.err, bad+`:2: unknown section "whatever"`) {
		t.Errorf("unknown section: %v", r)
	}
	// Nothing listens there: an error, not a usage error.
	if r := cli(t, "http://127.0.0.1:1", "get", "rules"); r.code != 1 || !strings.Contains(r.err, "connection refused") {
		t.Errorf("unreachable: %v", r)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func revision(t *testing.T, resourceJSON string) uint64 {
	t.Helper()
	var r struct{ Revision uint64 }
	if err := json.Unmarshal([]byte(resourceJSON), &r); err != nil || r.Revision == 0 {
		t.Fatalf("not a resource: %v %s", err, resourceJSON)
	}
	return r.Revision
}
