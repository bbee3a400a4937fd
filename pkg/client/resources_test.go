package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestResources(t *testing.T) {
	c, _ := start(t, `
api: {allow_private_addresses: true} # the API's target names a loopback URL
sources: {in: {type: http, path: /events, labels: {team: core}}}
targets: {filelog: {type: log, file: /dev/null}}
rules: {fromfile: {targets: [filelog]}}
`)
	ctx := ctxT(t)

	// Create, read, replace.
	res, created, err := c.Put(ctx, client.KindTarget, "out", map[string]any{
		"type": "http", "url": "http://127.0.0.1:1/", "headers": map[string]string{"X-Key": "s3cret"}, "labels": map[string]string{"team": "a"},
	}, nil)
	if err != nil || !created || res.Revision == 0 || res.Origin != client.OriginAPI {
		t.Fatalf("create: %v %v %+v", err, created, res)
	}
	if !strings.Contains(string(res.Spec), `"***"`) || strings.Contains(string(res.Spec), "s3cret") {
		t.Errorf("secret shown: %s", res.Spec)
	}
	got, err := c.Get(ctx, client.KindTarget, "out")
	if err != nil || got.Status == nil || got.Status.State == "" || got.SpecType() != "http" || got.Labels["team"] != "a" {
		t.Fatalf("get: %v %+v", err, got)
	}
	res2, created, err := c.Put(ctx, client.KindTarget, "out", got.Spec, &client.PutOptions{IfMatch: got.Revision})
	if err != nil || created || res2.Revision <= got.Revision {
		t.Fatalf("replace: %v %v %+v", err, created, res2)
	}
	_, _, err = c.Put(ctx, client.KindTarget, "out", json.RawMessage(`{"type":"log"}`), &client.PutOptions{IfMatch: got.Revision})
	if !client.IsPreconditionFailed(err) {
		t.Errorf("stale If-Match: %v", err)
	}
	_, _, err = c.Put(ctx, client.KindTarget, "out", []byte(`{"type":"log"}`), &client.PutOptions{CreateOnly: true})
	if !client.IsPreconditionFailed(err) {
		t.Errorf("create-only over an existing one: %v", err)
	}

	// A rule that uses it; field errors; pause and resume.
	_, _, err = c.Put(ctx, client.KindRule, "bad", map[string]any{"targets": []string{"nope"}}, nil)
	var ce *client.Error
	if !errors.As(err, &ce) || !client.IsInvalid(err) || ce.Code != client.CodeInvalidResource || len(ce.Errors) == 0 || ce.Errors[0].Field != "spec.targets[0]" {
		t.Fatalf("invalid rule: %#v", err)
	}
	if lines := ce.Lines(); len(lines) < 2 || !strings.Contains(lines[1], "spec.targets[0]: no target") || strings.Contains(lines[0], "spec.targets[0]") {
		t.Errorf("lines %q", lines)
	}
	if _, _, err := c.Put(ctx, client.KindRule, "r", map[string]any{"targets": []string{"out"}, "labels": map[string]string{"team": "a"}}, nil); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Pause(ctx, "r"); err != nil || !r.Paused || r.Status.State != "paused" {
		t.Fatalf("pause: %v %+v", err, r)
	}
	if r, err := c.Resume(ctx, "r"); err != nil || r.Paused || r.Status.State != "running" {
		t.Fatalf("resume: %v %+v", err, r)
	}
	if _, err := c.Pause(ctx, "nope"); !client.IsNotFound(err) {
		t.Errorf("pause a missing rule: %v", err)
	}

	// Lists: pages, labels.
	for _, n := range []string{"t1", "t2", "t3"} {
		if _, _, err := c.Put(ctx, client.KindTarget, n, map[string]any{"type": "log", "file": "/dev/null"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.List(ctx, client.KindTarget, &client.ListOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.NextPageToken == "" || page.Items[0].Status == nil {
		t.Fatalf("page: %v %+v", err, page)
	}
	all, err := client.Collect(c.All(ctx, client.KindTarget, &client.ListOptions{Limit: 2}))
	if err != nil || len(all) != 5 {
		t.Fatalf("all: %v %d", err, len(all))
	}
	n := 0
	for range c.All(ctx, client.KindTarget, &client.ListOptions{Limit: 1}) {
		if n++; n == 2 {
			break // stopping early is allowed
		}
	}
	team, err := client.Collect(c.All(ctx, client.KindTarget, &client.ListOptions{Labels: client.LabelSelectors(map[string]string{"team": "a"})}))
	if err != nil || len(team) != 1 || team[0].Name != "out" {
		t.Fatalf("label selector: %v %+v", err, team)
	}
	if src, err := client.Collect(c.All(ctx, client.KindSource, &client.ListOptions{Labels: []string{"team"}})); err != nil || len(src) != 1 {
		t.Fatalf("label present: %v %v", err, src)
	}
	if _, err := client.Collect(c.All(ctx, client.KindRule, &client.ListOptions{Labels: []string{"=x"}})); !client.IsInvalid(err) {
		t.Errorf("bad selector: %v", err)
	}

	// Deletes: in use, from the file, missing, done.
	if err := c.Delete(ctx, client.KindTarget, "out", nil); !client.IsConflict(err) || !strings.Contains(err.Error(), `rule(s) r`) {
		t.Errorf("delete a target in use: %v", err)
	}
	err = c.Delete(ctx, client.KindRule, "fromfile", nil)
	if !client.IsConflict(err) || !strings.Contains(err.Error(), "eventbridge.yaml") {
		t.Errorf("delete from the file: %v", err)
	}
	if _, _, err := c.Put(ctx, client.KindRule, "fromfile", map[string]any{"targets": []string{"out"}}, nil); !client.IsConflict(err) {
		t.Errorf("put over the file: %v", err)
	}
	if err := c.Delete(ctx, client.KindRule, "r", &client.PutOptions{IfMatch: 1}); !client.IsPreconditionFailed(err) {
		t.Errorf("delete with a stale If-Match: %v", err)
	}
	if err := c.Delete(ctx, client.KindRule, "r", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, client.KindRule, "r"); !client.IsNotFound(err) || client.StatusCode(err) != http.StatusNotFound {
		t.Errorf("get deleted: %v", err)
	}
	if err := c.Delete(ctx, client.KindTarget, "out", nil); err != nil {
		t.Errorf("delete once unused: %v", err)
	}
	if _, err := c.Get(ctx, client.Kind("bogus"), "x"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]client.Kind{"src": client.KindSource, "Sources": client.KindSource, "tgt": client.KindTarget, "targets": client.KindTarget, "rule": client.KindRule, "rules": client.KindRule} {
		if k, err := client.ParseKind(in); err != nil || k != want {
			t.Errorf("%s: %v %v", in, k, err)
		}
	}
	if _, err := client.ParseKind("pod"); err == nil {
		t.Error("pod is a kind")
	}
}
