package api

// Contract tests of what the API asks of others: replays and redrives are
// started, listed and cancelled by the operations service (a fake here,
// internal/opsvc in the bridge), whose answers map to 202 with the
// operation or to a problem document; and a write the store refuses for
// want of storage is 507.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/eventtypes"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/state"
)

type replayCall struct {
	rule, target string
	from, to     time.Time
}

type redriveCall struct {
	rule   string
	filter deadletter.Filter
}

// fakeOps is an operations service whose operations run until cancelled.
type fakeOps struct {
	*operations.Manager
	mu        sync.Mutex
	err       error // what starts answer, when set
	replays   []replayCall
	redrives  []redriveCall
	cancelled []string
}

func newFakeOps() *fakeOps {
	m := operations.NewManager()
	m.Register("replay", []string{"scanned"}, waitCancelled)
	m.Register("redrive", []string{"matched"}, waitCancelled)
	return &fakeOps{Manager: m}
}

func waitCancelled(ctx context.Context, _ *operations.Op) error {
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeOps) StartReplay(ctx context.Context, rule, target string, from, to time.Time) (operations.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replays = append(f.replays, replayCall{rule, target, from, to})
	if f.err != nil {
		return operations.View{}, f.err
	}
	return f.Launch(ctx, "replay", map[string]any{"rule": rule})
}

func (f *fakeOps) StartRedrive(ctx context.Context, rule string, flt deadletter.Filter) (operations.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redrives = append(f.redrives, redriveCall{rule, flt})
	if f.err != nil {
		return operations.View{}, f.err
	}
	return f.Launch(ctx, "redrive", map[string]any{"rule": rule})
}

func (f *fakeOps) Cancel(ctx context.Context, id string) (operations.View, error) {
	f.mu.Lock()
	f.cancelled = append(f.cancelled, id)
	f.mu.Unlock()
	return f.Manager.Cancel(ctx, id)
}

func (f *fakeOps) calls() (replays, redrives int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.replays), len(f.redrives)
}

func (f *fakeOps) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// wantOp checks a 202 answer with the operation and its Location, and
// returns the operation's id.
func (h *apiHarness) wantOp(t *testing.T, c call, kind string) string {
	t.Helper()
	resp, body := h.do(t, c)
	var v operations.View
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: %d %s: %v", c.method, c.path, resp.StatusCode, body, err)
	}
	if resp.StatusCode != http.StatusAccepted || v.ID == "" || v.Kind != kind || v.State != operations.Running {
		t.Fatalf("%s %s: %d %s, want 202 with a running %s", c.method, c.path, resp.StatusCode, body, kind)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/"+kind+"s/"+v.ID {
		t.Errorf("%s %s: Location %q, want /v1/%ss/%s", c.method, c.path, loc, kind, v.ID)
	}
	return v.ID
}

// getView reads an operation; ok is false on anything but 200.
func (h *apiHarness) getView(t *testing.T, path string) (operations.View, bool) {
	t.Helper()
	resp, body := h.do(t, call{method: "GET", path: path})
	var v operations.View
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
		return v, false
	}
	return v, true
}

func (h *apiHarness) listOpIDs(t *testing.T, path string) []string {
	t.Helper()
	resp, body := h.do(t, call{method: "GET", path: path})
	var out struct{ Items []operations.View }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Items == nil {
		t.Fatalf("GET %s: %d %s, want 200 with items", path, resp.StatusCode, body)
	}
	var ids []string
	for _, v := range out.Items {
		ids = append(ids, v.ID)
	}
	return ids
}

// POST /v1/replays asks the operations service for the replay and answers
// 202 with the operation; it is listed, read and cancelled through the
// service.
func TestAPIContractReplayAsksTheOperationsService(t *testing.T) {
	f := newFakeOps()
	h := newAPIHarnessWith(t, func(d *Deps) { d.Ops = f })
	h.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)

	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	body := fmt.Sprintf(`{"rule":"r","target":"t","from":%q,"to":%q}`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	id := h.wantOp(t, call{method: "POST", path: "/v1/replays", body: body}, "replay")
	f.mu.Lock()
	got := slices.Clone(f.replays)
	f.mu.Unlock()
	if want := (replayCall{"r", "t", from, to}); len(got) != 1 || got[0].rule != want.rule || got[0].target != want.target ||
		!got[0].from.Equal(want.from) || !got[0].to.Equal(want.to) {
		t.Fatalf("the service was asked %+v, want one %+v", got, want)
	}

	if ids := h.listOpIDs(t, "/v1/replays"); !slices.Contains(ids, id) {
		t.Errorf("GET /v1/replays lists %v, not %s", ids, id)
	}
	if ids := h.listOpIDs(t, "/v1/redrives"); len(ids) != 0 {
		t.Errorf("GET /v1/redrives lists %v, want no redrive", ids)
	}
	if v, ok := h.getView(t, "/v1/replays/"+id); !ok || v.ID != id {
		t.Errorf("GET /v1/replays/%s: %+v %v", id, v, ok)
	}
	h.wantProblem(t, call{method: "GET", path: "/v1/redrives/" + id}, problem.NotFound) // a replay is no redrive
	h.wantProblem(t, call{method: "GET", path: "/v1/replays/nope"}, problem.NotFound)
	h.wantProblem(t, call{method: "DELETE", path: "/v1/replays/nope"}, problem.NotFound)

	if resp, b := h.do(t, call{method: "DELETE", path: "/v1/replays/" + id}); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /v1/replays/%s: %d %s", id, resp.StatusCode, b)
	}
	f.mu.Lock()
	cancelled := slices.Clone(f.cancelled)
	f.mu.Unlock()
	if !slices.Equal(cancelled, []string{id}) {
		t.Errorf("the service was asked to cancel %v, want [%s]", cancelled, id)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, _ := h.getView(t, "/v1/replays/"+id)
		if v.State == operations.Cancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay %s is %q after DELETE, want cancelled", id, v.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// POST .../deadletters:redrive asks the operations service for the
// redrive, with the rule and the filter of the request.
func TestAPIContractRedriveAsksTheOperationsService(t *testing.T) {
	f := newFakeOps()
	h := newAPIHarnessWith(t, func(d *Deps) { d.Ops = f })
	h.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)

	id := h.wantOp(t, call{method: "POST", path: "/v1/rules/r/deadletters:redrive", body: `{"target":"t","reason":"expired"}`}, "redrive")
	f.mu.Lock()
	got := slices.Clone(f.redrives)
	f.mu.Unlock()
	if len(got) != 1 || got[0].rule != "r" || got[0].filter.Target != "t" || got[0].filter.Reason != "expired" {
		t.Fatalf("the service was asked %+v, want one redrive of r with target t and reason expired", got)
	}
	if ids := h.listOpIDs(t, "/v1/redrives"); !slices.Equal(ids, []string{id}) {
		t.Errorf("GET /v1/redrives lists %v, want [%s]", ids, id)
	}
	if v, ok := h.getView(t, "/v1/redrives/"+id); !ok || v.Kind != "redrive" {
		t.Errorf("GET /v1/redrives/%s: %+v %v", id, v, ok)
	}

	// A rule that does not exist is 404 and the service is not asked.
	h.wantProblem(t, call{method: "POST", path: "/v1/rules/ghost/deadletters:redrive"}, problem.NotFound)
	if _, n := f.calls(); n != 1 {
		t.Errorf("the service was asked for %d redrives, want 1", n)
	}
}

// What the operations service refuses becomes a problem document: its
// conflicts are 409 with its reason as the detail, other failures 503;
// requests the API refuses never reach it; with no service, starts are 503
// and the listings empty.
func TestAPIContractOperationErrors(t *testing.T) {
	f := newFakeOps()
	h := newAPIHarnessWith(t, func(d *Deps) { d.Ops = f })
	h.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)
	replay := call{method: "POST", path: "/v1/replays", body: `{"rule":"r","from":"2026-01-01T00:00:00Z"}`}
	redrive := call{method: "POST", path: "/v1/rules/r/deadletters:redrive"}

	reason := `rule "r" is not running here; see its status`
	f.setErr(operations.Conflict(reason))
	if p := h.wantProblem(t, replay, problem.Conflict); p.Detail != reason {
		t.Errorf("detail %q, want the service's reason %q", p.Detail, reason)
	}
	h.wantProblem(t, redrive, problem.Conflict)
	f.setErr(fmt.Errorf("reading the archive: %w", errors.New("bus: closed")))
	h.wantProblem(t, replay, problem.Unavailable)
	h.wantProblem(t, redrive, problem.Unavailable)
	f.setErr(nil)

	before, _ := f.calls()
	h.wantProblem(t, call{method: "POST", path: "/v1/replays", body: `{"rule":"ghost","from":"2026-01-01T00:00:00Z"}`}, problem.NotFound)
	h.wantProblem(t, call{method: "POST", path: "/v1/replays", body: `{"from":"2026-01-01T00:00:00Z"}`}, problem.InvalidRequest, "rule")
	h.wantProblem(t, call{method: "POST", path: "/v1/replays", body: `{"rule":"r"}`}, problem.InvalidRequest, "from")
	h.wantProblem(t, call{method: "POST", path: "/v1/replays", body: `{"rule":"r","from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}`}, problem.InvalidRequest, "to")
	h.wantProblem(t, call{method: "POST", path: "/v1/replays", body: `{"rule":"r","from":"2026-01-01T00:00:00Z","speed":2}`}, problem.InvalidRequest)
	if after, _ := f.calls(); after != before {
		t.Errorf("invalid requests reached the service (%d calls, want %d)", after, before)
	}

	none := newAPIHarness(t) // no operations service
	none.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)
	none.wantProblem(t, replay, problem.Unavailable)
	none.wantProblem(t, redrive, problem.Unavailable)
	none.wantProblem(t, call{method: "GET", path: "/v1/replays/x"}, problem.NotFound)
	if ids := none.listOpIDs(t, "/v1/replays"); len(ids) != 0 {
		t.Errorf("GET /v1/replays with no service: %v", ids)
	}
}

// fullStore is the store whose writes fail for want of storage once full
// is set.
type fullStore struct {
	Store
	mu   sync.Mutex
	full bool
}

func (s *fullStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		return fmt.Errorf("store: put: %w", bus.ErrStorageFull)
	}
	return nil
}

func (s *fullStore) Put(ctx context.Context, o *resource.Object, ifMatch uint64, createOnly bool) (uint64, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.Put(ctx, o, ifMatch, createOnly)
}

func (s *fullStore) Delete(ctx context.Context, kind resource.Kind, name string, ifMatch uint64) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, kind, name, ifMatch)
}

// A config write the store refuses because the bus has no storage left is
// 507 storage-full, for resources and subscriptions alike; reads go on.
func TestAPIContractStorageFullIs507(t *testing.T) {
	var fs *fullStore
	h := newAPIHarnessWith(t, func(d *Deps) {
		fs = &fullStore{Store: d.Store}
		d.Store = fs
	})
	h.stored(t, resource.KindTarget, "t", resource.OriginAPI, goodTarget)
	h.stored(t, resource.KindRule, "r", resource.OriginAPI, `{"targets":["t"]}`)
	sub := `{"sink":"http://127.0.0.1:9/","protocol":"HTTP","types":["x"]}`
	resp, body := h.do(t, call{method: "POST", path: "/v1/subscriptions", body: sub})
	var created struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &created) != nil || created.ID == "" {
		t.Fatalf("POST /v1/subscriptions: %d %s", resp.StatusCode, body)
	}

	fs.mu.Lock()
	fs.full = true
	fs.mu.Unlock()
	for _, c := range []call{
		{method: "PUT", path: "/v1/targets/u", body: goodTarget},
		{method: "PUT", path: "/v1/targets/t", body: `{"type":"` + apiFakeType + `","address":"y"}`},
		{method: "POST", path: "/v1/rules/r:pause"},
		{method: "DELETE", path: "/v1/rules/r"},
		{method: "POST", path: "/v1/subscriptions", body: sub},
		{method: "PUT", path: "/v1/subscriptions/" + created.ID, body: sub},
		{method: "DELETE", path: "/v1/subscriptions/" + created.ID},
	} {
		h.wantProblem(t, c, problem.StorageFull)
	}
	if resp, body := h.do(t, call{method: "GET", path: "/v1/targets/t"}); resp.StatusCode != http.StatusOK {
		t.Errorf("GET while the storage is full: %d %s", resp.StatusCode, body)
	}
}

// The server passes its optional components as they are: a nil one is
// none (no jobs, no state, no O-RAN service, no catalog), not a crash.
func TestAPINilComponentsAreNone(t *testing.T) {
	h := newAPIHarnessWith(t, func(d *Deps) {
		d.Jobs, d.State, d.Oran, d.Catalog = (*jobs.Manager)(nil), (*state.Store)(nil), (*oran.Service)(nil), (*eventtypes.Catalog)(nil)
	})
	for _, path := range []string{"/v1/jobs", "/v1/scheduler", "/v1/eventtypes"} {
		if resp, body := h.do(t, call{method: "GET", path: path}); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	h.wantProblem(t, call{method: "GET", path: "/v1/jobs/j"}, problem.NotFound)
	h.wantProblem(t, call{method: "GET", path: "/v1/state"}, problem.NotFound)
	h.wantProblem(t, call{method: "POST", path: "/v1/oran:import", body: `{"items":[]}`}, problem.Unavailable)
}

// fakeOran records imports.
type fakeOran struct {
	mu    sync.Mutex
	err   error
	calls [][]oran.ImportItem
}

func (f *fakeOran) ImportItems(_ context.Context, items []oran.ImportItem, dryRun bool) (*oran.ImportResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, items)
	if f.err != nil {
		return nil, f.err
	}
	res := &oran.ImportResult{DryRun: dryRun, Imported: []oran.ImportOutcome{}, Skipped: []oran.ImportOutcome{}, Refused: []oran.ImportOutcome{}}
	for _, it := range items {
		res.Imported = append(res.Imported, oran.ImportOutcome{ImportItem: it})
	}
	return res, nil
}

// POST /v1/oran:import checks the request and asks the O-RAN service,
// with kind and version defaulted; what the service answers maps to 200,
// 503, or 507 when the store is full.
func TestAPIContractOranImportAsksTheService(t *testing.T) {
	f := &fakeOran{}
	h := newAPIHarnessWith(t, func(d *Deps) { d.Oran = f })
	item := `{"id":"s1","endpoint_uri":"http://127.0.0.1:9/x","resource":"/east/ptp"}`
	resp, body := h.do(t, call{method: "POST", path: "/v1/oran:import", body: `{"dry_run":true,"items":[` + item + `]}`})
	var res oran.ImportResult
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil || !res.DryRun || len(res.Imported) != 1 {
		t.Fatalf("POST /v1/oran:import: %d %s", resp.StatusCode, body)
	}
	f.mu.Lock()
	got := f.calls
	f.mu.Unlock()
	if len(got) != 1 || len(got[0]) != 1 || got[0][0].Kind != oran.KindSubscription || got[0][0].Version != oran.V2 || got[0][0].ID != "s1" {
		t.Fatalf("the service was asked %+v, want one subscription s1 of v2", got)
	}

	h.wantProblem(t, call{method: "POST", path: "/v1/oran:import", body: `{"items":[{"kind":"topic","id":""}]}`}, problem.InvalidRequest,
		"items[0].kind", "items[0].id", "items[0].resource")
	f.mu.Lock()
	n := len(f.calls)
	f.err = fmt.Errorf("store: put: %w", bus.ErrStorageFull)
	f.mu.Unlock()
	if n != 1 {
		t.Errorf("an invalid request reached the service (%d calls)", n)
	}
	h.wantProblem(t, call{method: "POST", path: "/v1/oran:import", body: `{"items":[` + item + `]}`}, problem.StorageFull)
	f.mu.Lock()
	f.err = errors.New("store: timeout")
	f.mu.Unlock()
	h.wantProblem(t, call{method: "POST", path: "/v1/oran:import", body: `{"items":[` + item + `]}`}, problem.Unavailable)
}
