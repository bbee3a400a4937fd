// Package api is the bridge's REST API under /v1: JSON in and out, errors
// as application/problem+json from the catalog in api/problem. It changes
// desired state and reads status; it does not drive components itself: it
// asks them through the interfaces in ports.go, and long operations
// (replays, redrives) are started by the operations service
// (internal/opsvc). See docs/architecture.md, "Layers".
package api

import (
	"encoding/json"

	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/activity"
	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Deps are what the API reads and changes. The API asks these and does
// not drive components itself (docs/architecture.md, "Layers").
type Deps struct {
	// Store holds the desired state.
	Store Store
	// Controller reports what runs; nil in tests of the API alone.
	Controller Controller
	// Health is the components' health.
	Health *component.Registry
	// Counters returns a resource's main metrics.
	Counters func(kind resource.Kind, name string) map[string]float64
	// Auth checks credentials; nil lets everyone in (tests).
	Auth *Auth
	// DLQ reads and purges dead letters.
	DLQ DeadLetters
	// Ops starts, lists and cancels replays and redrives.
	Ops Operations
	// Archive reads the bus's archive of events, for the event listing
	// and live events.
	Archive *bus.Archive
	// Catalog holds the event types seen.
	Catalog EventTypes
	// Guard checks the addresses API callers set in targets, sources and
	// subscription sinks; nil allows every address
	// (api.allow_private_addresses).
	Guard *netguard.Guard
	// Resolver checks sink hosts; nil is the system's.
	Resolver netguard.Resolver
	// Logs are the bridge's loggers, whose levels /v1/loggers changes.
	Logs *telemetry.Logs
	// Jobs is the scheduler of the poll and cron sources; nil: no jobs.
	Jobs Jobs
	// Secrets are the config file's named secrets: the only values a
	// resource sent through the API may refer to (${secret:NAME}).
	Secrets map[string]spec.Secret
	// State is the current state; nil: the bridge keeps none.
	State State
	// Oran is the O-RAN service, for POST /v1/oran:import; nil: 503.
	Oran Oran
	// Activity is the last minutes of the main counters, for
	// GET /v1/activity; nil: 503.
	Activity func() activity.Report
}

// API serves /v1.
type API struct {
	deps   Deps
	routes []Route
}

// Route is one registered route: a method and a path pattern.
type Route struct {
	Method, Path string
}

// Routes lists every route the API registered (for the OpenAPI test).
func (a *API) Routes() []Route { return a.routes }

// handle registers a route with its scope.
func (a *API) handle(mux *http.ServeMux, pattern string, scope Scope, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	a.routes = append(a.routes, Route{Method: method, Path: path})
	mux.HandleFunc(pattern, a.scoped(scope, h))
}

// New returns the API.
func New(deps Deps) *API {
	deps.Store, deps.Controller, deps.DLQ, deps.Ops = nilled(deps.Store), nilled(deps.Controller), nilled(deps.DLQ), nilled(deps.Ops)
	deps.Catalog, deps.Jobs, deps.State, deps.Oran = nilled(deps.Catalog), nilled(deps.Jobs), nilled(deps.State), nilled(deps.Oran)
	return &API{deps: deps}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/openapi.json", ScopeRead, a.serveOpenAPI)
	a.handle(mux, "POST /v1/rules:test", ScopeRead, a.testRule)
	a.registerResources(mux)
	a.registerDLQ(mux)
	a.registerReplays(mux)
	a.registerEvents(mux)
	a.registerSubscriptions(mux)
	a.registerLoggers(mux)
	a.registerLogs(mux)
	a.registerJobs(mux)
	a.registerState(mux)
	a.registerOranImport(mux)
	a.registerConsole(mux)
}

const maxBody = 4 << 20

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) *problem.Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(problem.UnsupportedMediaType, "send application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem.New(problem.InvalidRequest, "body: "+err.Error())
	}
	return nil
}

// decodeOptional is decode for bodies that may be empty (v stays zero).
func decodeOptional(r *http.Request, v any) *problem.Problem {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return problem.New(problem.InvalidRequest, "body: "+err.Error())
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	return decode(r, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// invalidResource turns validation problems into a 400 problem.
func invalidResource(err error) *problem.Problem {
	p := problem.New(problem.InvalidResource, err.Error())
	var ve *spec.ValidationError
	if errors.As(err, &ve) {
		for _, q := range ve.Problems {
			p.Errors = append(p.Errors, problem.FieldError{Field: q.Path, Reason: q.Reason})
		}
	}
	return p
}

// writeFailed is the problem of a write the store could not make: 507
// when the bus has no storage left (nothing was changed; the client may
// try again once there is space), 503 otherwise.
func writeFailed(err error) *problem.Problem {
	if bus.IsStorageFull(err) {
		return problem.New(problem.StorageFull, "the bridge's store is full (its /readyz names the cause), nothing was changed; try again later: "+err.Error())
	}
	return problem.New(problem.Unavailable, err.Error())
}
