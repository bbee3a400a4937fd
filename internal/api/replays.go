package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// replayRequest is the body of POST /v1/replays.
type replayRequest struct {
	Rule string    `json:"rule"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Target limits the replay to one of the rule's targets.
	Target string `json:"target,omitempty"`
}

func (a *API) registerReplays(mux *http.ServeMux) {
	a.handle(mux, "POST /v1/replays", ScopeWrite, a.startReplay)
	a.handle(mux, "GET /v1/replays", ScopeRead, a.listOps("replay"))
	a.handle(mux, "GET /v1/replays/{id}", ScopeRead, a.getOp("replay"))
	a.handle(mux, "DELETE /v1/replays/{id}", ScopeWrite, a.cancelReplay)
}

func (a *API) startReplay(w http.ResponseWriter, r *http.Request) {
	var req replayRequest
	if perr := decode(r, &req); perr != nil {
		perr.Write(w, r)
		return
	}
	var errs []problem.FieldError
	if req.Rule == "" {
		errs = append(errs, problem.FieldError{Field: "rule", Reason: "required"})
	}
	if req.From.IsZero() {
		errs = append(errs, problem.FieldError{Field: "from", Reason: "required: an RFC 3339 time"})
	}
	if req.To.IsZero() {
		req.To = time.Now().UTC()
	}
	if !req.From.IsZero() && !req.To.After(req.From) {
		errs = append(errs, problem.FieldError{Field: "to", Reason: "must be after from"})
	}
	if len(errs) > 0 {
		problem.New(problem.InvalidRequest, "the replay request is not valid").WithErrors(errs...).Write(w, r)
		return
	}
	if _, perr := a.load(r.Context(), resource.KindRule, req.Rule); perr != nil {
		perr.Write(w, r)
		return
	}
	if a.deps.Ops == nil {
		opsProblem(nil).Write(w, r)
		return
	}
	op, err := a.deps.Ops.StartReplay(r.Context(), req.Rule, req.Target, req.From, req.To)
	if err != nil {
		opsProblem(err).Write(w, r)
		return
	}
	w.Header().Set("Location", "/v1/replays/"+op.ID)
	writeJSON(w, http.StatusAccepted, op)
}

func (a *API) cancelReplay(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, perr := a.getOpOf(r, "replay", id); perr != nil {
		perr.Write(w, r)
		return
	}
	// The owner may be another replica: wait a while for it to stop,
	// then answer what is known (cancel_requested while it runs).
	ctx, cancel := context.WithTimeout(r.Context(), cancelWait)
	defer cancel()
	v, err := a.deps.Ops.Cancel(ctx, id)
	if err != nil {
		opsReadProblem("replay", id, err).Write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// cancelWait bounds how long a cancel waits for the operation to stop.
const cancelWait = 10 * time.Second

// opsProblem maps what the operations service answers to a start: a
// refusal in the bridge's current state is 409, anything else 503 (nil:
// no operations run in this process).
func opsProblem(err error) *problem.Problem {
	switch {
	case err == nil:
		return problem.New(problem.Unavailable, "operations do not run in this process")
	case errors.Is(err, operations.ErrConflict):
		return problem.New(problem.Conflict, err.Error())
	}
	return problem.New(problem.Unavailable, err.Error())
}
