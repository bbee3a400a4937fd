package oran

import (
	"context"
	"errors"
)

// Importing from cloud-event-proxy (POST /v1/oran:import, eventbridge
// import oran): the API checks the request's shape and asks ImportItems.

// ImportItem is one subscription or publisher to import.
type ImportItem struct {
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

// ImportOutcome is an item and what became of it.
type ImportOutcome struct {
	ImportItem
	Reason string `json:"reason,omitempty"`
}

// ImportResult is what ImportItems did (or, on a dry run, would do).
type ImportResult struct {
	DryRun bool `json:"dry_run"`
	// Imported were stored (with DryRun: would be).
	Imported []ImportOutcome `json:"imported"`
	// Skipped are already there: the same id, or the same endpoint
	// subscribed to the same resource.
	Skipped []ImportOutcome `json:"skipped"`
	// Refused are not allowed: their endpoint fails the checks of the
	// O-RAN API (SSRF rules included).
	Refused []ImportOutcome `json:"refused"`
}

// ImportItems plans every item (skip what is there, refuse endpoints the
// O-RAN API would refuse) and, unless it is a dry run, imports the rest
// one by one (POST /v1/oran:import). Items are as the API checked them:
// kind and version set.
func (s *Service) ImportItems(ctx context.Context, items []ImportItem, dryRun bool) (*ImportResult, error) {
	res := &ImportResult{DryRun: dryRun, Imported: []ImportOutcome{}, Skipped: []ImportOutcome{}, Refused: []ImportOutcome{}}
	subs, err := s.List(ctx, KindSubscription)
	if err != nil {
		return nil, err
	}
	type pair struct{ endpoint, resource string }
	same := map[pair]string{} // endpoint+resource -> subscription id
	for _, p := range subs {
		same[pair{p.EndpointURI, p.Resource}] = p.ID
	}
	seen := map[string]bool{} // kind/id in this request
	for _, it := range items {
		out := ImportOutcome{ImportItem: it}
		key := it.Kind + "/" + it.ID
		if seen[key] {
			out.Reason = "duplicate of an earlier item"
			res.Skipped = append(res.Skipped, out)
			continue
		}
		seen[key] = true
		switch _, err := s.Get(ctx, it.Kind, it.ID); {
		case err == nil:
			out.Reason = it.Kind + " " + it.ID + " already exists"
			res.Skipped = append(res.Skipped, out)
			continue
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		if it.Kind == KindSubscription {
			if id, ok := same[pair{it.EndpointURI, it.Resource}]; ok {
				out.Reason = "the endpoint already subscribes to this resource (subscription " + id + ")"
				res.Skipped = append(res.Skipped, out)
				continue
			}
		}
		if it.EndpointURI != "" {
			if err := s.CheckEndpoint(ctx, it.EndpointURI); err != nil {
				out.Reason = err.Error()
				res.Refused = append(res.Refused, out)
				continue
			}
		}
		if !dryRun {
			created, _, err := s.Import(ctx, []PubSub{{
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
		if it.Kind == KindSubscription {
			same[pair{it.EndpointURI, it.Resource}] = it.ID
		}
		res.Imported = append(res.Imported, out)
	}
	return res, nil
}
