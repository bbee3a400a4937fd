package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/state"
)

// StateList is the answer of GET /v1/state.
type StateList struct {
	Items []state.Entry `json:"items"`
}

func (a *API) registerState(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/state", ScopeRead, a.listState)
	a.handle(mux, "GET /v1/state/{key...}", ScopeRead, a.getState)
}

// listStateParams are the query parameters GET /v1/state knows.
var listStateParams = map[string]bool{
	"source": true, "subject": true, "resource": true, "key": true, "key_prefix": true, "limit": true,
}

// stateOff answers when the bridge keeps no state.
func (a *API) stateOff(w http.ResponseWriter, r *http.Request) bool {
	if a.deps.State != nil {
		return false
	}
	problem.Write(w, r, problem.NotFound, "the bridge keeps no state (state.enabled is false)")
	return true
}

// listState answers the entries a query selects, newest first. With key,
// or with both source and subject, it asks for one entry: none is 404.
func (a *API) listState(w http.ResponseWriter, r *http.Request) {
	if perr := refuseUnknownParams(r, listStateParams); perr != nil {
		perr.Write(w, r)
		return
	}
	if a.stateOff(w, r) {
		return
	}
	q := r.URL.Query()
	limit, perr := queryLimit(q.Get("limit"), 100)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	if key := q.Get("key"); key != "" {
		e, err := a.deps.State.GetKey(r.Context(), key)
		if err == nil && !matchesParams(e, q.Get("source"), q.Get("subject"), q.Get("resource")) {
			err = state.ErrNotFound
		}
		if err != nil {
			a.stateError(w, r, err, "no state under key "+strconv.Quote(key))
			return
		}
		writeJSON(w, http.StatusOK, StateList{Items: []state.Entry{*e}})
		return
	}
	sq := state.Query{
		Source: q.Get("source"), Subject: q.Get("subject"), Resource: q.Get("resource"),
		KeyPrefix: q.Get("key_prefix"), Limit: limit,
	}
	items, err := a.deps.State.List(r.Context(), sq)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	if len(items) == 0 && sq.Source != "" && sq.Subject != "" {
		problem.Write(w, r, problem.NotFound, "no state for source "+strconv.Quote(sq.Source)+" and subject "+strconv.Quote(sq.Subject))
		return
	}
	if items == nil {
		items = []state.Entry{}
	}
	writeJSON(w, http.StatusOK, StateList{Items: items})
}

func matchesParams(e *state.Entry, source, subject, resource string) bool {
	return (source == "" || e.Source == source) && (subject == "" || e.Subject == subject) &&
		(resource == "" || e.Resource == resource)
}

// getState answers the entry under one key (write '/' in it as is, '#' as
// %23).
func (a *API) getState(w http.ResponseWriter, r *http.Request) {
	if a.stateOff(w, r) {
		return
	}
	key := r.PathValue("key")
	e, err := a.deps.State.GetKey(r.Context(), key)
	if err != nil {
		a.stateError(w, r, err, "no state under key "+strconv.Quote(key))
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) stateError(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	if errors.Is(err, state.ErrNotFound) {
		problem.Write(w, r, problem.NotFound, notFound)
		return
	}
	problem.Write(w, r, problem.Unavailable, err.Error())
}
