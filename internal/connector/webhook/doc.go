// Package webhook holds what the signed webhook sources share: the HTTP
// endpoint they are mounted on (body size limit, methods, problem answers,
// metrics, storing before answering), the refusal errors and their metric
// reasons, HMAC and token checks in constant time, the timestamp tolerance
// and the replay guard, and the helper that builds a validated CloudEvent
// from attribute strings.
//
// Each vendor has its own package below this one (github, gitlab, stripe,
// sns, eventbridge, pubsub, eventgrid, generic) that registers a source
// type in init() and implements Handler: verify the raw body, then map it
// to CloudEvents. The vendor package never writes to the ResponseWriter
// itself; it returns a Reply (events to store, and what to answer) or an
// error wrapping one of the sentinels of errors.go.
package webhook
