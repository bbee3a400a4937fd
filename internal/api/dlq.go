package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// DeadLetterList is a page of dead letters.
type DeadLetterList struct {
	Items []*deadletter.Letter `json:"items"`
	// NextPageToken, when set, fetches the next page (page_token=…).
	NextPageToken string `json:"next_page_token,omitempty"`
}

// PurgeResult says how many dead letters a purge removed.
type PurgeResult struct {
	Purged int `json:"purged"`
}

func (a *API) registerDLQ(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/rules/{name}/deadletters", ScopeRead, a.listDeadLetters)
	a.handle(mux, "GET /v1/rules/{name}/deadletters/{id}", ScopeRead, a.getDeadLetter)
	a.handle(mux, "POST /v1/rules/{name}/{action}", ScopeWrite, a.deadLetterAction)
	a.handle(mux, "POST /v1/rules/{name}/deadletters/{action}", ScopeWrite, a.deadLetterAction)
	a.handle(mux, "GET /v1/redrives", ScopeRead, a.listOps("redrive"))
	a.handle(mux, "GET /v1/redrives/{id}", ScopeRead, a.getOp("redrive"))
}

// loadDeadLetterOwner checks that the rule whose dead letters are asked
// for exists. A subscription runs as the rule subscription-<id>, which is
// not stored as a rule: its letters are reachable while the subscription
// exists.
func (a *API) loadDeadLetterOwner(ctx context.Context, rule string) *problem.Problem {
	if id, ok := strings.CutPrefix(rule, subscription.Prefix); ok {
		if _, perr := a.load(ctx, resource.KindSubscription, id); perr != nil {
			return problem.New(problem.NotFound, fmt.Sprintf("no rule named %q (and no subscription %q)", rule, id))
		}
		return nil
	}
	_, perr := a.load(ctx, resource.KindRule, rule)
	return perr
}

func (a *API) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	rule := r.PathValue("name")
	if perr := a.loadDeadLetterOwner(r.Context(), rule); perr != nil {
		perr.Write(w, r)
		return
	}
	q := r.URL.Query()
	limit, perr := queryLimit(q.Get("limit"), 100)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	var after uint64
	if s := q.Get("page_token"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			problem.New(problem.InvalidRequest, "page_token: not a token from a previous page").Write(w, r)
			return
		}
		after = n
	}
	f := deadletter.Filter{Target: q.Get("target"), Type: q.Get("type"), Source: q.Get("source"), Reason: q.Get("reason")}
	items, next, err := a.deps.DLQ.List(r.Context(), rule, f, after, limit)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	out := DeadLetterList{Items: items}
	if next > 0 {
		out.NextPageToken = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		problem.Write(w, r, problem.NotFound, "dead letter ids are numbers")
		return
	}
	l, err := a.deps.DLQ.Get(r.Context(), r.PathValue("name"), id)
	switch {
	case errors.Is(err, deadletter.ErrNotFound):
		problem.Write(w, r, problem.NotFound, fmt.Sprintf("no dead letter %d for rule %q", id, r.PathValue("name")))
		return
	case err != nil:
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// deadLetterAction serves POST .../deadletters:redrive and :purge (the
// action is the last path segment, "deadletters:redrive"), and
// POST .../deadletters/{id}:redrive for one letter.
func (a *API) deadLetterAction(w http.ResponseWriter, r *http.Request) {
	rule := r.PathValue("name")
	seg := r.PathValue("action")
	var idPart, action string
	var ok bool
	if rest, whole := strings.CutPrefix(seg, "deadletters:"); whole {
		action, ok = rest, true
	} else if strings.HasSuffix(r.URL.Path, "/"+seg) && strings.Contains(r.URL.Path, "/deadletters/") {
		idPart, action, ok = strings.Cut(seg, ":")
	}
	if !ok {
		problem.Write(w, r, problem.NotFound, "use POST /v1/rules/{name}/deadletters:redrive, :purge or /deadletters/{id}:redrive")
		return
	}
	var f deadletter.Filter
	if perr := decodeOptional(r, &f); perr != nil {
		perr.Write(w, r)
		return
	}
	if idPart != "" {
		id, err := strconv.ParseUint(idPart, 10, 64)
		if err != nil {
			problem.Write(w, r, problem.NotFound, "dead letter ids are numbers")
			return
		}
		f.IDs = []uint64{id}
	}
	if perr := a.loadDeadLetterOwner(r.Context(), rule); perr != nil {
		perr.Write(w, r)
		return
	}
	if len(f.IDs) == 1 && idPart != "" {
		if _, err := a.deps.DLQ.Get(r.Context(), rule, f.IDs[0]); errors.Is(err, deadletter.ErrNotFound) {
			problem.Write(w, r, problem.NotFound, fmt.Sprintf("no dead letter %d for rule %q", f.IDs[0], rule))
			return
		}
	}
	switch action {
	case "redrive":
		if a.deps.Ops == nil {
			opsProblem(nil).Write(w, r)
			return
		}
		op, err := a.deps.Ops.StartRedrive(r.Context(), rule, f)
		if err != nil {
			opsProblem(err).Write(w, r)
			return
		}
		w.Header().Set("Location", "/v1/redrives/"+op.ID)
		writeJSON(w, http.StatusAccepted, op)
	case "purge":
		if id, p := a.identity(r); p == nil && id.Scope.Rank() < ScopeAdmin.Rank() {
			problem.Write(w, r, problem.Forbidden, "purging dead letters needs the admin scope")
			return
		}
		p, err := a.deps.DLQ.Purge(r.Context(), rule, f)
		if err != nil {
			problem.Write(w, r, problem.Unavailable, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, PurgeResult{Purged: p.Done})
	default:
		problem.Write(w, r, problem.NotFound, "unknown action "+action+": redrive or purge")
	}
}

func queryLimit(s string, def int) (int, *problem.Problem) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, problem.New(problem.InvalidRequest, "limit must be between 1 and 1000").
			WithErrors(problem.FieldError{Field: "limit", Reason: "must be between 1 and 1000"})
	}
	return n, nil
}

func (a *API) listOps(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var items []operations.View
		if a.deps.Ops != nil {
			var err error
			if items, err = a.deps.Ops.List(r.Context(), kind); err != nil {
				problem.Write(w, r, problem.Unavailable, err.Error())
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
	}
}

// getOpOf returns the operation id if it is of kind, or the problem to
// answer.
func (a *API) getOpOf(r *http.Request, kind, id string) (operations.View, *problem.Problem) {
	if a.deps.Ops == nil {
		return operations.View{}, opsReadProblem(kind, id, operations.ErrNotFound)
	}
	v, err := a.deps.Ops.Get(r.Context(), id)
	if err == nil && v.Kind != kind {
		err = operations.ErrNotFound
	}
	if err != nil {
		return operations.View{}, opsReadProblem(kind, id, err)
	}
	return v, nil
}

// opsReadProblem maps an error reading an operation: 404 for an unknown
// one, 503 when the bus does not answer.
func opsReadProblem(kind, id string, err error) *problem.Problem {
	if errors.Is(err, operations.ErrNotFound) {
		return problem.New(problem.NotFound, fmt.Sprintf("no %s %q", kind, id))
	}
	return problem.New(problem.Unavailable, err.Error())
}

func (a *API) getOp(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, perr := a.getOpOf(r, kind, r.PathValue("id"))
		if perr != nil {
			perr.Write(w, r)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
