package api

import (
	"net/http"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// WhoAmI is who the caller is, as the API sees it: the web console reads
// it to show only the actions the caller's scope allows.
type WhoAmI struct {
	Name  string `json:"name"`
	Scope Scope  `json:"scope"`
}

func (a *API) registerConsole(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/whoami", ScopeRead, a.whoami)
	a.handle(mux, "GET /v1/activity", ScopeRead, a.getActivity)
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	id, p := a.identity(r)
	if p != nil {
		p.Write(w, r)
		return
	}
	//lint:ignore S1016 the answer's fields are the API's contract, whatever Identity becomes
	writeJSON(w, http.StatusOK, WhoAmI{Name: id.Name, Scope: id.Scope})
}

// getActivity serves the last 15 minutes of the main counters.
func (a *API) getActivity(w http.ResponseWriter, r *http.Request) {
	if a.deps.Activity == nil {
		problem.Write(w, r, problem.Unavailable, "this bridge keeps no activity counters")
		return
	}
	writeJSON(w, http.StatusOK, a.deps.Activity())
}
