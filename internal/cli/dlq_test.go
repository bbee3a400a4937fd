package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

func TestDLQListShowRedrivePurge(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	url := startBridge(t, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL))
	for i := range 6 {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("d%d", i), []string{"com.a", "com.b"}[i%2])
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		return strings.Count(cli(t, url, "dlq", "list", "r").out, "permanent") == 6
	}, "not dead-lettered")

	r := cli(t, url, "dlq", "list", "r", "--type", "com.b")
	wantInOrder(t, "dlq list", r.out, "ID", "TARGET", "REASON", "ATTEMPTS", "STATUS", "TYPE", "EVENT ID", "AGE", "ERROR",
		"out", "permanent", "1", "400", "com.b")
	if strings.Contains(r.out, "com.a") || !strings.Contains(r.out, "d1") || !strings.Contains(r.out, "d3") || !strings.Contains(r.out, "d5") {
		t.Errorf("--type: %v", r)
	}
	if r = cli(t, url, "dlq", "list", "r", "--limit", "2"); strings.Count(r.out, "permanent") != 2 || !strings.Contains(r.out, "more not shown") {
		t.Errorf("--limit: %v", r)
	}
	r = cli(t, url, "dlq", "list", "r", "-o", "json", "--reason", "permanent", "--target", "out")
	var letters struct {
		Items []struct {
			ID    uint64
			Event map[string]any
		}
	}
	if err := json.Unmarshal([]byte(r.out), &letters); err != nil || len(letters.Items) != 6 {
		t.Fatalf("dlq list -o json: %v %v", err, r)
	}
	id := fmt.Sprint(letters.Items[0].ID)
	r = cli(t, url, "dlq", "show", "r", id)
	wantInOrder(t, "dlq show", r.out, "ID:", id, "Rule:", "r", "Target:", "out", "Reason:", "permanent", "Last status:", "400", "Event:", fmt.Sprintf(`"id": %q`, letters.Items[0].Event["id"]))
	if r = cli(t, url, "dlq", "show", "r", "999999"); r.code != 1 || !strings.Contains(r.err, "no dead letter 999999") {
		t.Errorf("show a missing letter: %v", r)
	}
	if r = cli(t, url, "dlq", "list", "nope"); r.code != 1 || !strings.Contains(r.err, "error: Not found: no rule named \"nope\"") {
		t.Errorf("letters of a missing rule: %v", r)
	}

	// The target recovers: redrive one by id, then the rest, following them.
	sink.SetStatus(nil)
	r = cli(t, url, "dlq", "redrive", "r", id, "--poll-interval", "20ms")
	if r.code != 0 || !regexp.MustCompile(`redrive redrive-\S+ succeeded in \S+: matched=1 done=1 failed=0\n`).MatchString(r.out) {
		t.Fatalf("redrive one: %v", r)
	}
	if r = cli(t, url, "dlq", "redrive", "r", "999999", "--poll-interval", "20ms"); r.code != 1 || !strings.Contains(r.err, "no dead letter 999999") {
		t.Errorf("redrive a missing letter: %v", r)
	}
	r = cli(t, url, "dlq", "redrive", "r", "--all", "--poll-interval", "20ms")
	if r.code != 0 || !strings.Contains(r.out, "succeeded") || !strings.Contains(r.out, "matched=5 done=5 failed=0") {
		t.Fatalf("redrive all: %v", r)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 6 }, "redriven letters not delivered: %d", sink.Distinct())
	if r = cli(t, url, "dlq", "list", "r"); r.out != "No dead letters for rule r.\n" {
		t.Errorf("after redrive: %v", r)
	}
	r = cli(t, url, "dlq", "redrive", "r", "--type", "com.a", "--detach")
	if r.code != 0 || !regexp.MustCompile(`^redrive-\S+\n$`).MatchString(r.out) {
		t.Fatalf("--detach: %v", r)
	}
	opID := strings.TrimSpace(r.out)
	testkit.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(cli(t, url, "dlq", "redrive-status", opID).out, "succeeded")
	}, "detached redrive")
	if r = cli(t, url, "dlq", "redrives"); strings.Count(r.out, "succeeded") != 3 {
		t.Errorf("redrives: %v", r)
	}

	// Purge: asks first; --yes does not.
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	bridgetest.Send(t, url, "/events", "/test", "p1", "com.a")
	testkit.Eventually(t, 10*time.Second, func() bool { return strings.Contains(cli(t, url, "dlq", "list", "r").out, "p1") }, "not dead-lettered")
	if r = cli(t, url, "dlq", "purge", "r"); r.code != 2 || !strings.Contains(r.err, "--yes") {
		t.Errorf("purge without --yes: %v", r)
	}
	if r = cli(t, url, "dlq", "purge", "r", "--yes"); r.code != 0 || r.out != "1 dead letters of rule r purged\n" {
		t.Errorf("purge: %v", r)
	}
}

func TestReplayWithProgress(t *testing.T) {
	sink := testkit.NewSink(t)
	url := startBridge(t, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out], filter: {filters: [{prefix: {type: com.keep}}]}}}
`, sink.URL))
	for i := range 5 {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("k%d", i), "com.keep")
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("x%d", i), "com.other")
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 5 }, "live delivery")

	r := cli(t, url, "replay", "--rule", "r", "--from", "1m", "--target", "out", "--poll-interval", "20ms")
	if r.code != 0 {
		t.Fatal(r)
	}
	// Stdout is not a terminal: progress lines, then the summary.
	progress := regexp.MustCompile(`(?m)^replay (replay-\S+): running: scanned=\d+ matched=\d+ delivered=\d+ retrying=\d+ dead_lettered=\d+ failed=\d+$`)
	summary := regexp.MustCompile(`(?m)^replay (replay-\S+) succeeded in \S+: scanned=\d+ matched=5 delivered=5 retrying=0 dead_lettered=0 failed=0$`)
	if !progress.MatchString(r.out) || !summary.MatchString(r.out) {
		t.Fatalf("replay output: %v", r)
	}
	id := summary.FindStringSubmatch(r.out)[1]
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == 10 }, "replayed events not delivered")

	if r = cli(t, url, "replay", "get", id); r.code != 0 || !strings.Contains(r.out, "succeeded") || !strings.Contains(r.out, "delivered=5") {
		t.Errorf("replay get: %v", r)
	}
	if r = cli(t, url, "replay", "get", id, "-o", "json"); !strings.Contains(r.out, `"state": "succeeded"`) {
		t.Errorf("replay get -o json: %v", r)
	}
	r = cli(t, url, "replay", "--rule", "r", "--from", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "--to", time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "--detach")
	if r.code != 0 || !regexp.MustCompile(`^replay-\S+\n$`).MatchString(r.out) {
		t.Fatalf("--detach: %v", r)
	}
	detached := strings.TrimSpace(r.out)
	if r = cli(t, url, "replay", "get", detached, "--wait", "--poll-interval", "20ms"); r.code != 0 || !strings.Contains(r.out, "replay "+detached+" succeeded") {
		t.Errorf("replay get --wait: %v", r)
	}
	if r = cli(t, url, "replay", "list"); !strings.Contains(r.out, id) || !strings.Contains(r.out, detached) {
		t.Errorf("replay list: %v", r)
	}
	if r = cli(t, url, "replay", "cancel", id); r.code != 0 || r.out != "replay "+id+" had already succeeded\n" {
		t.Errorf("replay cancel: %v", r)
	}
	if r = cli(t, url, "replay", "--rule", "nope", "--from", "1h"); r.code != 1 || !strings.Contains(r.err, `no rule named "nope"`) {
		t.Errorf("replay a missing rule: %v", r)
	}
}
