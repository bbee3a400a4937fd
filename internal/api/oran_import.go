package api

import (
	"fmt"
	"net/http"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
)

// POST /v1/oran:import stores O-RAN subscriptions and publishers as they
// are, ids and uriLocations kept, without the handshake: for moving over
// from cloud-event-proxy (eventbridge import oran).

// maxImportItems bounds one import request.
const maxImportItems = 10000

// OranImportItem is one subscription or publisher to import.
type OranImportItem = oran.ImportItem

// OranImportRequest is the body of POST /v1/oran:import.
type OranImportRequest struct {
	// DryRun reports what would happen and stores nothing.
	DryRun bool             `json:"dry_run,omitempty"`
	Items  []OranImportItem `json:"items"`
}

// OranImportOutcome is an item and what became of it.
type OranImportOutcome = oran.ImportOutcome

// OranImportResult is the answer of POST /v1/oran:import.
type OranImportResult = oran.ImportResult

func (a *API) registerOranImport(mux *http.ServeMux) {
	a.handle(mux, "POST /v1/oran:import", ScopeWrite, a.oranImport)
}

func (a *API) oranImport(w http.ResponseWriter, r *http.Request) {
	if a.deps.Oran == nil {
		problem.Write(w, r, problem.Unavailable, "the O-RAN service does not run in this bridge")
		return
	}
	var req OranImportRequest
	if p := decode(r, &req); p != nil {
		p.Write(w, r)
		return
	}
	if p := validateImport(&req); p != nil {
		p.Write(w, r)
		return
	}
	res, err := a.deps.Oran.ImportItems(r.Context(), req.Items, req.DryRun)
	if err != nil {
		writeFailed(err).Write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// validateImport checks the request's shape; every problem names its
// field.
func validateImport(req *OranImportRequest) *problem.Problem {
	var errs []problem.FieldError
	add := func(field, reason string) { errs = append(errs, problem.FieldError{Field: field, Reason: reason}) }
	if req.Items == nil {
		add("items", "required: the subscriptions and publishers to import")
	}
	if len(req.Items) > maxImportItems {
		add("items", fmt.Sprintf("at most %d per request", maxImportItems))
	}
	for i := range req.Items {
		it := &req.Items[i]
		at := fmt.Sprintf("items[%d].", i)
		switch it.Kind {
		case "":
			it.Kind = oran.KindSubscription
		case oran.KindSubscription, oran.KindPublisher:
		default:
			add(at+"kind", fmt.Sprintf("must be subscription or publisher, not %q", it.Kind))
		}
		switch it.Version {
		case "":
			it.Version = oran.V2
		case oran.V1, oran.V2:
		default:
			add(at+"version", fmt.Sprintf("must be v1 or v2, not %q", it.Version))
		}
		if it.ID == "" {
			add(at+"id", "required: the id to keep")
		} else if len(it.ID) > 200 {
			add(at+"id", "longer than 200 characters")
		}
		if it.Resource == "" {
			add(at+"resource", "required: the resource address")
		}
		if it.Kind == oran.KindSubscription && it.EndpointURI == "" {
			add(at+"endpoint_uri", "required for a subscription")
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return problem.New(problem.InvalidRequest, fmt.Sprintf("%d problems in the import request", len(errs))).WithErrors(errs...)
}
