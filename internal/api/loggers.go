package api

import (
	"net/http"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// LoggerList is every logger with its level.
type LoggerList struct {
	Items []telemetry.LoggerLevel `json:"items"`
}

// LevelRequest is the body of PUT /v1/loggers/{name}.
type LevelRequest struct {
	Level string `json:"level"`
}

func (a *API) registerLoggers(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/loggers", ScopeRead, a.listLoggers)
	a.handle(mux, "PUT /v1/loggers/{name...}", ScopeAdmin, a.setLogger)
}

func (a *API) listLoggers(w http.ResponseWriter, r *http.Request) {
	if a.deps.Logs == nil {
		writeJSON(w, http.StatusOK, LoggerList{Items: []telemetry.LoggerLevel{}})
		return
	}
	writeJSON(w, http.StatusOK, LoggerList{Items: a.deps.Logs.List()})
}

// setLogger changes a logger's level at run time: a name ("router",
// "source/web"), a prefix ending in "/" ("route/"), or "*" for all.
func (a *API) setLogger(w http.ResponseWriter, r *http.Request) {
	var req LevelRequest
	if p := decode(r, &req); p != nil {
		p.Write(w, r)
		return
	}
	if a.deps.Logs == nil {
		problem.Write(w, r, problem.NotFound, "no loggers")
		return
	}
	if err := a.deps.Logs.SetLevel(r.PathValue("name"), req.Level); err != nil {
		problem.New(problem.InvalidRequest, err.Error()).WithErrors(problem.FieldError{Field: "level", Reason: err.Error()}).Write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, LoggerList{Items: a.deps.Logs.List()})
}
