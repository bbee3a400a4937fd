package api

import (
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Sources and targets pause and resume as rules do: the flag is stored
// with the resource (so it survives a restart), also on a config file's
// resource, and a PUT of the spec keeps it.
func TestAPIPauseSourcesAndTargets(t *testing.T) {
	h := newAPIHarness(t)
	h.stored(t, resource.KindTarget, "t", resource.OriginAPI, goodTarget)
	h.stored(t, resource.KindTarget, "from-file", resource.OriginFile, goodTarget)
	h.stored(t, resource.KindSource, "s", resource.OriginAPI, `{"type":"`+apiFakeType+`","address":"x"}`)
	for _, c := range []struct {
		kind resource.Kind
		name string
	}{{resource.KindTarget, "t"}, {resource.KindTarget, "from-file"}, {resource.KindSource, "s"}} {
		path := "/v1/" + c.kind.Plural() + "/" + c.name
		for _, step := range []struct {
			action string
			want   bool
		}{{"pause", true}, {"pause", true}, {"resume", false}, {"pause", true}} {
			resp, body := h.do(t, call{method: "POST", path: path + ":" + step.action})
			var v Resource
			if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil || v.Paused != step.want || v.Kind != c.kind {
				t.Fatalf("POST %s:%s: %d %s", path, step.action, resp.StatusCode, body)
			}
			o, err := h.store.Get(bustest.Context(t), c.kind, c.name)
			if err != nil || o.Paused != step.want {
				t.Fatalf("after %s the store has paused=%v (%v), want %v", step.action, o != nil && o.Paused, err, step.want)
			}
		}
	}
	// Editing the spec keeps the resource paused.
	if resp, body := h.do(t, call{method: "PUT", path: "/v1/targets/t", body: `{"type":"` + apiFakeType + `","address":"y"}`}); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	if o, err := h.store.Get(bustest.Context(t), resource.KindTarget, "t"); err != nil || !o.Paused {
		t.Errorf("a PUT unpaused the target (%v)", err)
	}
	for _, c := range []call{
		{method: "POST", path: "/v1/sources/nope:pause"},
		{method: "POST", path: "/v1/targets/nope:resume"},
		{method: "POST", path: "/v1/targets/t:explode"},
		{method: "POST", path: "/v1/sources/s"},
	} {
		h.wantProblem(t, c, problem.NotFound)
	}
}

// A subscription sent as YAML is stored as if sent as JSON, and its
// validation errors give the line of their field.
func TestAPISubscriptionAsYAML(t *testing.T) {
	h := newAPIHarness(t)
	resp, body := h.do(t, call{method: "POST", path: "/v1/subscriptions", body: `{"protocol":"HTTP","sink":"https://example.com/a"}`})
	var created struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(body, &created) != nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	yamlHeader := map[string]string{"Content-Type": "application/yaml"}
	path := "/v1/subscriptions/" + created.ID
	resp, body = h.do(t, call{method: "PUT", path: path, body: "protocol: HTTP\nsink: https://example.com/b\ntypes: [com.example.a]\n", header: yamlHeader})
	if resp.StatusCode != 200 || !json.Valid(body) {
		t.Fatalf("PUT YAML: %d %s", resp.StatusCode, body)
	}
	_, body = h.do(t, call{method: "GET", path: path})
	var got struct {
		Sink  string   `json:"sink"`
		Types []string `json:"types"`
	}
	if json.Unmarshal(body, &got) != nil || got.Sink != "https://example.com/b" || len(got.Types) != 1 {
		t.Errorf("stored %s", body)
	}
	p := h.wantProblem(t, call{method: "PUT", path: path, body: "protocol: HTTP\n\nsink: not a url\n", header: yamlHeader}, problem.InvalidResource, "sink")
	if len(p.Errors) == 0 || p.Errors[0].Line != 3 {
		t.Errorf("errors %+v, want sink at line 3", p.Errors)
	}
	h.wantProblem(t, call{method: "PUT", path: path, body: "protocol: HTTP\nsink: https://example.com/b\nnope: 1\n", header: yamlHeader}, problem.InvalidRequest)
}
