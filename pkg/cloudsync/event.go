package cloudsync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cetypes "github.com/cloudevents/sdk-go/v2/types"
	"github.com/google/uuid"
)

// Transport moves events between a client and a broker. It mirrors OCM's
// v2 CloudEventTransport, so a driver written for one fits the other.
//
// The client calls Connect, then Subscribe, then Receive (in a goroutine).
// A transport reports a broken connection on ErrorChan; the client then
// calls Close, Connect and Subscribe again and starts a new Receive.
type Transport interface {
	// Connect opens the connection to the broker.
	Connect(ctx context.Context) error
	// Send publishes one event; the transport picks the destination (topic,
	// subject, stream) from the event's type and extensions.
	Send(ctx context.Context, evt cloudevents.Event) error
	// Subscribe starts the subscriptions of the role the transport was
	// made for. ctx lasts as long as the subscription (until the next
	// reconnect, the end of the client or of its Subscribe context): a
	// transport may bind a stream to it. The same ctx is passed to the
	// Receive that follows.
	Subscribe(ctx context.Context) error
	// Receive calls fn for every received event, one at a time, and
	// blocks until ctx is done or the transport is closed. It returns nil
	// then, and also when the connection broke and the transport reported
	// that on ErrorChan; an error it returns counts as a transport error.
	Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error
	// ErrorChan reports transport errors; after one the client reconnects.
	ErrorChan() <-chan error
	// Close closes the connection; Receive returns.
	Close(ctx context.Context) error
}

// Object is what the clients need to know about a resource.
type Object interface {
	// GetUID is the resource id (the resourceid extension).
	GetUID() string
	// GetResourceVersion is the spec version (the resourceversion
	// extension); 0 means "not maintained", which always counts as newer.
	GetResourceVersion() int64
	// GetDeletionTimestamp is non-nil when the resource is being deleted.
	GetDeletionTimestamp() *time.Time
}

// ListOptions selects the objects a Lister returns. An empty field
// selects all.
type ListOptions struct {
	ClusterName string
	Source      string
	DataType    DataType
}

// Lister lists the objects a side holds.
type Lister[T Object] interface {
	List(opts ListOptions) ([]T, error)
}

// ListerFunc adapts a function to a Lister.
type ListerFunc[T Object] func(opts ListOptions) ([]T, error)

// List calls f.
func (f ListerFunc[T]) List(opts ListOptions) ([]T, error) { return f(opts) }

// Codec turns objects into events and back.
type Codec[T Object] interface {
	// EventDataType is the data type the codec handles.
	EventDataType() DataType
	// Encode makes the event of type t for obj, sent by source (a source
	// or agent id). It must set the clustername and originalsource
	// extensions (NewEvent does).
	Encode(source string, t EventType, obj T) (*cloudevents.Event, error)
	// Decode makes an object from an event.
	Decode(evt *cloudevents.Event) (T, error)
}

// StatusHashFunc returns the status hash of an object. Both sides must
// use the same function.
type StatusHashFunc[T Object] func(obj T) (string, error)

// HashStatus is the default status hash: the SHA-256 (lower-case hex) of
// the JSON encoding of status with the keys of every object sorted, as
// OCM computes it (its statushash package hashes the status taken from
// the object's unstructured map, whose JSON has sorted keys). So a status
// struct hashes the same as its OCM counterpart, whatever the order of its
// fields.
func HashStatus(status any) (string, error) {
	b, err := json.Marshal(status)
	if err != nil {
		return "", fmt.Errorf("cloudsync: status hash: %w", err)
	}
	if b, err = canonicalJSON(b); err != nil {
		return "", fmt.Errorf("cloudsync: status hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalJSON re-encodes JSON with sorted object keys; numbers keep
// their text.
func canonicalJSON(b []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// EventOptions are the extensions of an event NewEvent builds.
type EventOptions struct {
	ClusterName    string
	OriginalSource string
	ResourceID     string
	// ResourceVersion is set when non-nil.
	ResourceVersion *int64
	SequenceID      string
	// DeletionTimestamp is set when non-zero.
	DeletionTimestamp time.Time
}

// NewEvent builds an event as OCM's EventBuilder does: spec version 1.0, a
// new UUID, the type, the time now, the source, clustername and
// originalsource always (possibly ""), the other extensions when set.
func NewEvent(source string, t EventType, o EventOptions) cloudevents.Event {
	evt := cloudevents.NewEvent()
	evt.SetID(uuid.NewString())
	evt.SetType(t.String())
	evt.SetTime(time.Now())
	evt.SetSource(source)
	evt.SetExtension(ExtClusterName, o.ClusterName)
	evt.SetExtension(ExtOriginalSource, o.OriginalSource)
	if o.ResourceID != "" {
		evt.SetExtension(ExtResourceID, o.ResourceID)
	}
	if o.ResourceVersion != nil {
		evt.SetExtension(ExtResourceVersion, *o.ResourceVersion)
	}
	if o.SequenceID != "" {
		evt.SetExtension(ExtSequenceID, o.SequenceID)
	}
	if !o.DeletionTimestamp.IsZero() {
		evt.SetExtension(ExtDeletionTimestamp, o.DeletionTimestamp)
	}
	return evt
}

// ExtString returns a string extension of evt ("" when absent). Binary
// transports deliver every extension as a string; this accepts any
// CloudEvents attribute type.
func ExtString(evt *cloudevents.Event, name string) string {
	v, ok := evt.Extensions()[name]
	if !ok || v == nil {
		return ""
	}
	s, err := cetypes.Format(v)
	if err != nil {
		return ""
	}
	return s
}

// ExtInt64 returns an integer extension of evt; ok is false when it is
// absent or not an integer.
func ExtInt64(evt *cloudevents.Event, name string) (v int64, ok bool, err error) {
	raw, present := evt.Extensions()[name]
	if !present || raw == nil {
		return 0, false, nil
	}
	i, err := cetypes.ToInteger(raw)
	if err != nil {
		return 0, false, fmt.Errorf("cloudsync: extension %s: %w", name, err)
	}
	return int64(i), true, nil
}

// ExtTime returns a timestamp extension of evt; ok is false when absent.
func ExtTime(evt *cloudevents.Event, name string) (t time.Time, ok bool, err error) {
	raw, present := evt.Extensions()[name]
	if !present || raw == nil {
		return time.Time{}, false, nil
	}
	t, err = cetypes.ToTime(raw)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("cloudsync: extension %s: %w", name, err)
	}
	return t, true, nil
}

// ResourceVersion is one entry of a spec resync request.
type ResourceVersion struct {
	ResourceID      string `json:"resourceID"`
	ResourceVersion int64  `json:"resourceVersion"`
}

// ResourceVersionList is the data of a spec.resync_request.
type ResourceVersionList struct {
	Versions []ResourceVersion `json:"resourceVersions"`
}

// ResourceStatusHash is one entry of a status resync request.
type ResourceStatusHash struct {
	ResourceID string `json:"resourceID"`
	StatusHash string `json:"statusHash"`
}

// ResourceStatusHashList is the data of a status.resync_request.
type ResourceStatusHashList struct {
	Hashes []ResourceStatusHash `json:"statusHashes"`
}
