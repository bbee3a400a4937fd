package client

import (
	"context"
	"net/http"
)

// OranImportItem is an O-RAN subscription or publisher to import, as
// cloud-event-proxy stored it.
type OranImportItem struct {
	// Kind is "subscription" (default) or "publisher".
	Kind string `json:"kind,omitempty"`
	// Version is the O-RAN API version: "v1" or "v2" (default).
	Version     string `json:"version,omitempty"`
	ID          string `json:"id"`
	EndpointURI string `json:"endpoint_uri,omitempty"`
	URILocation string `json:"uri_location,omitempty"`
	Resource    string `json:"resource"`
	// File is the store file it came from; the answer repeats it.
	File string `json:"file,omitempty"`
}

// OranImportOutcome is an item and, unless imported, why not.
type OranImportOutcome struct {
	OranImportItem
	Reason string `json:"reason,omitempty"`
}

// OranImportResult is what an import did (or, as a dry run, would do).
type OranImportResult struct {
	DryRun   bool                `json:"dry_run"`
	Imported []OranImportOutcome `json:"imported"`
	Skipped  []OranImportOutcome `json:"skipped"`
	Refused  []OranImportOutcome `json:"refused"`
}

// ImportOran stores O-RAN subscriptions and publishers with their ids,
// without the subscription handshake (POST /v1/oran:import). Items that
// are already there are skipped; items whose endpoint the bridge does not
// allow are refused. dryRun stores nothing.
func (c *Client) ImportOran(ctx context.Context, items []OranImportItem, dryRun bool) (*OranImportResult, error) {
	body := struct {
		DryRun bool             `json:"dry_run,omitempty"`
		Items  []OranImportItem `json:"items"`
	}{dryRun, items}
	if body.Items == nil {
		body.Items = []OranImportItem{}
	}
	var out OranImportResult
	if _, _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/oran:import", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
