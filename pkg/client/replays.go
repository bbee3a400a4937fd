package client

import (
	"context"
	"net/http"
	"time"
)

// ReplayRequest asks to deliver a rule's archived events again.
type ReplayRequest struct {
	// Rule is the rule whose filter, transform and targets the replay
	// uses; it must be running.
	Rule string `json:"rule"`
	// From and To bound the events by the time they were stored; a zero
	// To means now.
	From time.Time `json:"from"`
	To   time.Time `json:"-"`
	// Target limits the replay to one of the rule's targets.
	Target string `json:"target,omitempty"`
}

// StartReplay starts a replay and returns its operation; Wait for its end.
// Replayed events carry the extension replayed=true.
func (c *Client) StartReplay(ctx context.Context, r ReplayRequest) (*Operation, error) {
	body := struct {
		ReplayRequest
		To *time.Time `json:"to,omitempty"`
	}{ReplayRequest: r}
	if !r.To.IsZero() {
		body.To = &r.To
	}
	return c.startOp(ctx, request{method: http.MethodPost, path: "/v1/replays", body: body})
}

// Replays lists the replays the bridge remembers (they live in the memory
// of the process that runs them).
func (c *Client) Replays(ctx context.Context) ([]*Operation, error) {
	return c.listOps(ctx, OpReplay)
}

// GetReplay returns a replay.
func (c *Client) GetReplay(ctx context.Context, id string) (*Operation, error) {
	return c.GetOperation(ctx, OpReplay, id)
}

// CancelReplay cancels a running replay and returns its state (which may
// still be "running" for a moment).
func (c *Client) CancelReplay(ctx context.Context, id string) (*Operation, error) {
	return c.startOp(ctx, request{method: http.MethodDelete, path: "/v1/replays/" + seg(id)})
}
