package http

import (
	"context"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// batchItem is one event of a batch request: its webhook id and its JSON
// form, encoded by the Send that submitted it.
type batchItem struct {
	id   string
	json []byte
}

// sendBatched submits e to the open batch and returns the outcome of the
// request that carried it. Each event of a failed batch is retried or
// dead-lettered on its own by delivery.
func (t *Target) sendBatched(ctx context.Context, e *ce.Event) error {
	bt := t.batcher.Load()
	if bt == nil {
		return connector.ErrNotConnected // stopped
	}
	b, err := ebevent.EncodeJSON(e)
	if err != nil {
		return connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	return bt.Submit(ctx, batchItem{id: WebhookID(e), json: b}, len(b)+1)
}

// flushBatch sends items as one request (the CloudEvents JSON batch
// format); its outcome is every item's. When the receiver refuses the
// batch for good (a 4xx other than 408 and 429: an event it cannot take,
// or a body too large), the batch is split in halves and each half sent
// again, down to single events, so that only the events the receiver
// refuses are dead-lettered. Other failures (5xx, no connection) are
// returned to every item, which delivery then retries on its own.
func (t *Target) flushBatch(ctx context.Context, items []batchItem) []error {
	err := t.sendBatch(ctx, items)
	if err == nil || len(items) == 1 || !connector.IsPermanent(err) || ctx.Err() != nil {
		return batch.All(err, len(items))
	}
	half := len(items) / 2
	errs := make([]error, 0, len(items))
	for _, part := range [][]batchItem{items[:half], items[half:]} {
		perr := t.flushBatch(ctx, part)
		if perr == nil {
			perr = make([]error, len(part))
		}
		errs = append(errs, perr...)
	}
	return errs
}

// sendBatch sends one request with items as a JSON array.
func (t *Target) sendBatch(ctx context.Context, items []batchItem) error {
	n := 1
	for _, it := range items {
		n += len(it.json) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, '[')
	for i, it := range items {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, it.json...)
	}
	body = append(body, ']')
	req, rctx, cancel := t.newRequest(ctx)
	defer cancel()
	req.Header.Set("Content-Type", MediaBatch+"; charset=utf-8")
	return t.do(rctx, req, body, batchWebhookID(items))
}

// MinConcurrency implements batch.MinConcurrency: in batch mode a route
// needs max_events workers to fill a batch.
func (t *Target) MinConcurrency() int {
	if t.cfg.Mode != ModeBatch {
		return 0
	}
	return t.cfg.Batch.MaxEvents
}

var _ batch.MinConcurrency = (*Target)(nil)
