// Package event holds the CloudEvent helpers every other package shares:
// validation that names each bad attribute, the dedup key, size limits and the
// JSON form that filters and transforms see.
//
// The event type itself is always github.com/cloudevents/sdk-go/v2/event.Event;
// this package never defines its own.
package event
