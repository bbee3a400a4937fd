package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// StateEntry is the last event under one key of the bridge's current
// state.
type StateEntry struct {
	// Key is the state key: "<source>#<subject>" (or "<source>" without a
	// subject) unless a source's state_key or a component named it.
	Key     string `json:"key"`
	Source  string `json:"source"`
	Subject string `json:"subject,omitempty"`
	// Resource is the source resource that took the event in, if any.
	Resource string    `json:"resource,omitempty"`
	Updated  time.Time `json:"updated"`
	// Seq is the event's sequence in the archive, when it came from the bus.
	Seq uint64 `json:"seq,omitempty"`
	// Truncated: the event was over state.max_event_size and is kept
	// without its data.
	Truncated bool `json:"truncated,omitempty"`
	// Event is the CloudEvent in its JSON form.
	Event map[string]any `json:"event"`
}

// StateList is the answer of State.
type StateList struct {
	Items []*StateEntry `json:"items"`
}

// StateQuery selects entries of the current state; empty fields select
// all.
type StateQuery struct {
	// Source and Subject are event attributes that must match exactly.
	// With both set, no entry is an error (404, IsNotFound).
	Source, Subject string
	// Resource is the source resource that took the events in.
	Resource string
	// Key asks for the entry under one key (404 when there is none);
	// KeyPrefix for the keys that start with it.
	Key, KeyPrefix string
	// Limit caps the entries (1-1000; 0: the server's default, 100).
	Limit int
}

func (q *StateQuery) values() url.Values {
	v := url.Values{}
	if q == nil {
		return v
	}
	setNonEmpty(v, "source", q.Source)
	setNonEmpty(v, "subject", q.Subject)
	setNonEmpty(v, "resource", q.Resource)
	setNonEmpty(v, "key", q.Key)
	setNonEmpty(v, "key_prefix", q.KeyPrefix)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// State returns the entries of the current state q selects, newest first.
func (c *Client) State(ctx context.Context, q *StateQuery) (*StateList, error) {
	var out StateList
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/state", query: q.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StateEntry returns the entry under key.
func (c *Client) StateEntry(ctx context.Context, key string) (*StateEntry, error) {
	var out StateEntry
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/state/" + seg(key)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
