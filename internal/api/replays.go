package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/ops"
	"github.com/eventbridge-dev/eventbridge/internal/replay"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

func (a *API) registerReplays(mux *http.ServeMux) {
	a.handle(mux, "POST /v1/replays", ScopeWrite, a.startReplay)
	a.handle(mux, "GET /v1/replays", ScopeRead, a.listOps("replay"))
	a.handle(mux, "GET /v1/replays/{id}", ScopeRead, a.getOp("replay"))
	a.handle(mux, "DELETE /v1/replays/{id}", ScopeWrite, a.cancelReplay)
}

func (a *API) startReplay(w http.ResponseWriter, r *http.Request) {
	var req replay.Request
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
	if _, _, ok := a.deps.Controller.Rule(req.Rule); !ok {
		problem.Write(w, r, problem.Conflict, fmt.Sprintf("rule %q is not running here; see its status", req.Rule))
		return
	}
	op := a.deps.Ops.Start("replay", req, replay.Counters, func(ctx context.Context, op *ops.Op) error {
		return replay.Run(ctx, a.deps.Archive, a.deps.Controller, req, op)
	})
	w.Header().Set("Location", "/v1/replays/"+op.ID())
	writeJSON(w, http.StatusAccepted, op.View())
}

func (a *API) cancelReplay(w http.ResponseWriter, r *http.Request) {
	op, ok := a.deps.Ops.Get(r.PathValue("id"))
	if !ok || op.View().Kind != "replay" {
		problem.Write(w, r, problem.NotFound, "no replay "+r.PathValue("id"))
		return
	}
	a.deps.Ops.Cancel(op.ID())
	writeJSON(w, http.StatusOK, op.View())
}
