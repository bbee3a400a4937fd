package api

// Contract tests of the API's error mapping: what the store and the bus
// answer becomes a problem document (application/problem+json) with the
// catalog's type, code and status, and a validation failure names the
// field. The API runs in an httptest server on an embedded bus (bustest)
// with a real store and dead-letter queue, and no controller.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// apiFakeType is a target type whose spec needs an address.
const apiFakeType = "api-contract-fake"

type apiFakeConfig struct {
	connector.Common `yaml:",inline"`
	Address          string `json:"address,omitempty"`
}

func (c *apiFakeConfig) Defaults() {}

func (c *apiFakeConfig) Validate(p spec.Problems) {
	if c.Address == "" {
		p.AddAt("address", "required")
	}
}

type apiFakeTarget struct{ *bustest.Target }

func init() {
	connector.RegisterTarget(connector.TargetType{
		Name: apiFakeType, Doc: "api contract tests",
		NewConfig: func() connector.Config { return &apiFakeConfig{} },
		New: func(string, connector.Config, connector.Deps) (connector.Target, error) {
			return apiFakeTarget{bustest.NewTarget()}, nil
		},
	})
}

type apiHarness struct {
	bus   *bus.Bus
	store *desired.Store
	url   string
}

func newAPIHarness(t *testing.T) *apiHarness {
	t.Helper()
	return newAPIHarnessWith(t, nil)
}

// newAPIHarnessWith lets edit change the API's dependencies (fakes) before
// it starts.
func newAPIHarnessWith(t *testing.T, edit func(*Deps)) *apiHarness {
	t.Helper()
	b := bustest.New(t)
	st, err := desired.Open(bustest.Context(t), b)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	deps := Deps{Store: st, DLQ: deadletter.New(b.DeadLetters()), Archive: b.Archive(), Health: component.NewRegistry()}
	if edit != nil {
		edit(&deps)
	}
	New(deps).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiHarness{bus: b, store: st, url: srv.URL}
}

// stored puts a resource straight into the desired.
func (h *apiHarness) stored(t *testing.T, kind resource.Kind, name, origin, specJSON string) {
	t.Helper()
	o := &resource.Object{Kind: kind, Name: name, Origin: origin, Spec: json.RawMessage(specJSON)}
	if origin == resource.OriginFile {
		o.File = "eventbridge.yaml"
	}
	if _, err := h.store.Put(bustest.Context(t), o, 0, false); err != nil {
		t.Fatal(err)
	}
}

type call struct {
	method, path, body string
	header             map[string]string
}

func (h *apiHarness) do(t *testing.T, c call) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, h.url+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// wantProblem checks that the answer is a problem of kind k about the
// request's path and, when fields are given, that it names them.
func (h *apiHarness) wantProblem(t *testing.T, c call, k problem.Kind, fields ...string) problem.Problem {
	t.Helper()
	resp, body := h.do(t, c)
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s %s: %d %s: not a problem document: %v", c.method, c.path, resp.StatusCode, body, err)
	}
	if resp.StatusCode != k.Status || p.Status != k.Status || p.Code != k.Code || !strings.HasSuffix(p.Type, "#"+k.Code) || p.Title != k.Title {
		t.Errorf("%s %s: %d %+v, want %d %s", c.method, c.path, resp.StatusCode, p, k.Status, k.Code)
	}
	if ct := resp.Header.Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("%s %s: content type %q, want %s", c.method, c.path, ct, problem.ContentType)
	}
	if path, _ := url.PathUnescape(strings.SplitN(c.path, "?", 2)[0]); p.Instance != path {
		t.Errorf("%s %s: instance %q, want the path", c.method, c.path, p.Instance)
	}
	var got []string
	for _, e := range p.Errors {
		got = append(got, e.Field)
		if e.Reason == "" {
			t.Errorf("%s %s: field %s has no reason", c.method, c.path, e.Field)
		}
	}
	for _, f := range fields {
		if !slices.Contains(got, f) {
			t.Errorf("%s %s: fields %v, want %s among them (%s)", c.method, c.path, got, f, body)
		}
	}
	return p
}

const goodTarget = `{"type":"` + apiFakeType + `","address":"x"}`

// What the store does not have is 404 not-found, for every kind and verb.
func TestAPIContractNotFound(t *testing.T) {
	h := newAPIHarness(t)
	h.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)
	for _, c := range []call{
		{method: "GET", path: "/v1/targets/nope"},
		{method: "GET", path: "/v1/sources/nope"},
		{method: "GET", path: "/v1/rules/nope"},
		{method: "DELETE", path: "/v1/targets/nope"},
		{method: "POST", path: "/v1/rules/nope:pause"},
		{method: "GET", path: "/v1/rules/nope/deadletters"},
		{method: "GET", path: "/v1/rules/r/deadletters/7"}, // the rule exists, the letter does not
	} {
		h.wantProblem(t, c, problem.NotFound)
	}
}

// Changing what the config file owns, or deleting what a rule uses, is
// 409 conflict; the store's revision conflicts are 412.
func TestAPIContractConflicts(t *testing.T) {
	h := newAPIHarness(t)
	h.stored(t, resource.KindTarget, "from-file", resource.OriginFile, goodTarget)
	h.stored(t, resource.KindTarget, "used", resource.OriginAPI, goodTarget)
	h.stored(t, resource.KindRule, "user", resource.OriginAPI, `{"targets":["used"]}`)

	p := h.wantProblem(t, call{method: "PUT", path: "/v1/targets/from-file", body: goodTarget}, problem.Conflict)
	if !strings.Contains(p.Detail, "config file") {
		t.Errorf("detail %q does not say the config file owns it", p.Detail)
	}
	h.wantProblem(t, call{method: "DELETE", path: "/v1/targets/from-file"}, problem.Conflict)
	p = h.wantProblem(t, call{method: "DELETE", path: "/v1/targets/used"}, problem.Conflict)
	if !strings.Contains(p.Detail, "user") {
		t.Errorf("detail %q does not name the rule that uses the target", p.Detail)
	}

	// Revisions: If-None-Match: * on an existing resource, a stale If-Match.
	resp, _ := h.do(t, call{method: "GET", path: "/v1/targets/used"})
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" {
		t.Fatalf("GET: %d, ETag %q", resp.StatusCode, etag)
	}
	changed := `{"type":"` + apiFakeType + `","address":"y"}`
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/used", body: changed, header: map[string]string{"If-None-Match": "*"}}, problem.PreconditionFailed)
	if resp, body := h.do(t, call{method: "PUT", path: "/v1/targets/used", body: changed, header: map[string]string{"If-Match": etag}}); resp.StatusCode != 200 {
		t.Fatalf("PUT with the current ETag: %d %s", resp.StatusCode, body)
	}
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/used", body: goodTarget, header: map[string]string{"If-Match": etag}}, problem.PreconditionFailed)
	h.wantProblem(t, call{method: "DELETE", path: "/v1/targets/used", header: map[string]string{"If-Match": etag}}, problem.Conflict) // still used: checked first
	h.stored(t, resource.KindRule, "user", resource.OriginAPI, `{"targets":["other"]}`)
	h.wantProblem(t, call{method: "DELETE", path: "/v1/targets/used", header: map[string]string{"If-Match": etag}}, problem.PreconditionFailed)
}

// Invalid requests and resources are 400, naming each wrong field.
func TestAPIContractValidation(t *testing.T) {
	h := newAPIHarness(t)
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/t", body: `{"type":"` + apiFakeType + `"}`}, problem.InvalidResource, "spec.address")
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/t", body: `{"type":"no-such-type"}`}, problem.InvalidResource, "spec.type")
	h.wantProblem(t, call{method: "PUT", path: "/v1/rules/r", body: `{"targets":["ghost"],"sources":["nowhere"]}`}, problem.InvalidResource,
		"spec.targets[0]", "spec.sources[0]")
	h.wantProblem(t, call{method: "PUT", path: "/v1/rules/r", body: `{"targets":[],"filter":{"sql":"type = "}}`}, problem.InvalidResource,
		"spec.targets")
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/Bad%20Name", body: goodTarget}, problem.InvalidRequest, "name")
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/t", body: goodTarget, header: map[string]string{"If-Match": "yesterday"}}, problem.InvalidRequest, "If-Match")
	h.wantProblem(t, call{method: "GET", path: "/v1/targets?limit=0"}, problem.InvalidRequest, "limit")
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/t", body: `{"type":"` + apiFakeType + `","address":"x","extra":1}`}, problem.InvalidResource)
	h.wantProblem(t, call{method: "PUT", path: "/v1/targets/t", body: goodTarget, header: map[string]string{"Content-Type": "text/plain"}}, problem.UnsupportedMediaType)
	if n := bustest.Count(t, h.bus, "KV_"+desired.Bucket, ""); n != 0 {
		t.Errorf("the store holds %d entries after invalid requests only, want none", n)
	}
	// And the valid request goes through: 201, then 200 with nothing changed.
	if resp, body := h.do(t, call{method: "PUT", path: "/v1/targets/t", body: goodTarget}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("valid PUT: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.do(t, call{method: "PUT", path: "/v1/targets/t", body: goodTarget}); resp.StatusCode != http.StatusOK {
		t.Fatalf("same PUT again: %d %s", resp.StatusCode, body)
	}
}

// When the bus cannot answer, reads and writes of desired state and dead
// letters are 503 unavailable, not 404 or 500.
func TestAPIContractBusDownIsUnavailable(t *testing.T) {
	h := newAPIHarness(t)
	h.stored(t, resource.KindTarget, "t", resource.OriginAPI, goodTarget)
	h.bus.Close()
	for _, c := range []call{
		{method: "GET", path: "/v1/targets/t"},
		{method: "GET", path: "/v1/targets"},
		{method: "PUT", path: "/v1/targets/u", body: goodTarget},
		{method: "DELETE", path: "/v1/targets/t"},
	} {
		h.wantProblem(t, c, problem.Unavailable)
	}
}
