package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kinds of operations.
const (
	OpReplay  = "replay"
	OpRedrive = "redrive"
)

// States of an operation.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Operation is a long task the bridge runs in the background: a replay or
// a redrive.
type Operation struct {
	ID string `json:"id"`
	// Kind is "replay" or "redrive".
	Kind string `json:"kind"`
	// State is running, succeeded, failed or cancelled.
	State string `json:"state"`
	// Params are the request that started it.
	Params map[string]any `json:"params,omitempty"`
	// Progress counts what it did. A redrive has matched, done and failed;
	// a replay has scanned, matched, delivered, retrying, dead_lettered
	// and failed.
	Progress map[string]int64 `json:"progress"`
	Error    string           `json:"error,omitempty"`
	Started  time.Time        `json:"started"`
	Finished *time.Time       `json:"finished,omitempty"`
}

// Done reports whether the operation has ended.
func (o *Operation) Done() bool { return o.State != StateRunning }

// Err returns nil for a running or succeeded operation, and an error
// wrapping ErrOperationFailed or ErrOperationCancelled otherwise.
func (o *Operation) Err() error {
	switch o.State {
	case StateFailed:
		return fmt.Errorf("%s %s: %w: %s", o.Kind, o.ID, ErrOperationFailed, o.Error)
	case StateCancelled:
		return fmt.Errorf("%s %s: %w", o.Kind, o.ID, ErrOperationCancelled)
	}
	return nil
}

// GetOperation returns an operation of a kind (OpReplay, OpRedrive).
func (c *Client) GetOperation(ctx context.Context, kind, id string) (*Operation, error) {
	if kind != OpReplay && kind != OpRedrive {
		return nil, fmt.Errorf("client: unknown operation kind %q", kind)
	}
	var out Operation
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + kind + "s/" + seg(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) listOps(ctx context.Context, kind string) ([]*Operation, error) {
	var out struct {
		Items []*Operation `json:"items"`
	}
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + kind + "s"}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

func (c *Client) startOp(ctx context.Context, r request) (*Operation, error) {
	var out Operation
	if _, _, err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitOptions tune Wait.
type WaitOptions struct {
	// Interval between polls; default 500ms.
	Interval time.Duration
	// Progress, when set, is called with each state read, the last one
	// included.
	Progress func(*Operation)
}

// Wait polls an operation until it ends or ctx is done, and returns its
// last state. The error is ctx's or the API's, or op.Err() of the ended
// operation (errors.Is ErrOperationFailed or ErrOperationCancelled).
func (c *Client) Wait(ctx context.Context, op *Operation, opts *WaitOptions) (*Operation, error) {
	interval := 500 * time.Millisecond
	var progress func(*Operation)
	if opts != nil {
		if opts.Interval > 0 {
			interval = opts.Interval
		}
		progress = opts.Progress
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	cur := op
	for {
		if progress != nil {
			progress(cur)
		}
		if cur.Done() {
			return cur, cur.Err()
		}
		select {
		case <-ctx.Done():
			return cur, ctx.Err()
		case <-t.C:
		}
		next, err := c.GetOperation(ctx, op.Kind, op.ID)
		if err != nil {
			if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
				return cur, ctx.Err()
			}
			return cur, err
		}
		cur = next
	}
}
