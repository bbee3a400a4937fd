package connector

import "errors"

// ErrSourcePaused is what Ingest returns for a source that was paused
// (POST /v1/sources/{name}:pause): the events were not stored. A source
// that answers requests refuses them (HTTP 503 with Retry-After); the
// others are stopped while paused and never see it.
var ErrSourcePaused = errors.New("source is paused")

// RequestSource is implemented by sources that answer requests (HTTP,
// webhooks, gRPC). When paused they keep running and refuse what is sent
// (Ingest returns ErrSourcePaused), so senders learn to come back; a
// source without it (a broker's consumer, a poll, a schedule) is stopped
// while paused, so the broker keeps its messages and nothing is fetched.
type RequestSource interface {
	AnswersRequests()
}
