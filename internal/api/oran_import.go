package api

import (
	"context"
	"errors"
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
type OranImportItem struct {
	// Kind is subscription (default) or publisher.
	Kind string `json:"kind,omitempty"`
	// Version is the O-RAN API version it belongs to: v1 or v2 (default).
	Version     string `json:"version,omitempty"`
	ID          string `json:"id"`
	EndpointURI string `json:"endpoint_uri,omitempty"`
	URILocation string `json:"uri_location,omitempty"`
	Resource    string `json:"resource"`
	// File is where the item came from (reported back as it is).
	File string `json:"file,omitempty"`
}

// OranImportRequest is the body of POST /v1/oran:import.
type OranImportRequest struct {
	// DryRun reports what would happen and stores nothing.
	DryRun bool             `json:"dry_run,omitempty"`
	Items  []OranImportItem `json:"items"`
}

// OranImportOutcome is an item and what became of it.
type OranImportOutcome struct {
	OranImportItem
	Reason string `json:"reason,omitempty"`
}

// OranImportResult is the answer of POST /v1/oran:import.
type OranImportResult struct {
	DryRun bool `json:"dry_run"`
	// Imported were stored (with DryRun: would be).
	Imported []OranImportOutcome `json:"imported"`
	// Skipped are already there: the same id, or the same endpoint
	// subscribed to the same resource.
	Skipped []OranImportOutcome `json:"skipped"`
	// Refused are not allowed: their endpoint fails the checks of the
	// O-RAN API (SSRF rules included).
	Refused []OranImportOutcome `json:"refused"`
}

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
	res, err := a.importOran(r.Context(), &req)
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

// importOran plans every item (skip what is there, refuse endpoints the
// O-RAN API would refuse) and, unless it is a dry run, imports the rest
// one by one.
func (a *API) importOran(ctx context.Context, req *OranImportRequest) (*OranImportResult, error) {
	svc := a.deps.Oran
	res := &OranImportResult{DryRun: req.DryRun, Imported: []OranImportOutcome{}, Skipped: []OranImportOutcome{}, Refused: []OranImportOutcome{}}
	subs, err := svc.List(ctx, oran.KindSubscription)
	if err != nil {
		return nil, err
	}
	type pair struct{ endpoint, resource string }
	same := map[pair]string{} // endpoint+resource -> subscription id
	for _, p := range subs {
		same[pair{p.EndpointURI, p.Resource}] = p.ID
	}
	seen := map[string]bool{} // kind/id in this request
	for _, it := range req.Items {
		out := OranImportOutcome{OranImportItem: it}
		key := it.Kind + "/" + it.ID
		if seen[key] {
			out.Reason = "duplicate of an earlier item"
			res.Skipped = append(res.Skipped, out)
			continue
		}
		seen[key] = true
		switch _, err := svc.Get(ctx, it.Kind, it.ID); {
		case err == nil:
			out.Reason = it.Kind + " " + it.ID + " already exists"
			res.Skipped = append(res.Skipped, out)
			continue
		case !errors.Is(err, oran.ErrNotFound):
			return nil, err
		}
		if it.Kind == oran.KindSubscription {
			if id, ok := same[pair{it.EndpointURI, it.Resource}]; ok {
				out.Reason = "the endpoint already subscribes to this resource (subscription " + id + ")"
				res.Skipped = append(res.Skipped, out)
				continue
			}
		}
		if it.EndpointURI != "" {
			if err := svc.CheckEndpoint(ctx, it.EndpointURI); err != nil {
				out.Reason = err.Error()
				res.Refused = append(res.Refused, out)
				continue
			}
		}
		if !req.DryRun {
			created, _, err := svc.Import(ctx, []oran.PubSub{{
				Kind: it.Kind, Version: it.Version, ID: it.ID, EndpointURI: it.EndpointURI,
				URILocation: it.URILocation, Resource: it.Resource,
			}})
			if err != nil {
				return nil, err
			}
			if created == 0 { // made meanwhile
				out.Reason = "already there"
				res.Skipped = append(res.Skipped, out)
				continue
			}
		}
		if it.Kind == oran.KindSubscription {
			same[pair{it.EndpointURI, it.Resource}] = it.ID
		}
		res.Imported = append(res.Imported, out)
	}
	return res, nil
}
