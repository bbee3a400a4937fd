package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ArchivedEvent is one event of the archive.
type ArchivedEvent struct {
	// Seq is its sequence in the archive.
	Seq uint64 `json:"seq"`
	// Stored is when the bus stored it.
	Stored time.Time `json:"stored"`
	// SourceName is the source resource that took it in.
	SourceName string `json:"source_name"`
	// Event is the CloudEvent in its JSON form.
	Event map[string]any `json:"event"`
}

// EventList is a page of archived events.
type EventList struct {
	Items []*ArchivedEvent `json:"items"`
	// NextPageToken, when set, is the PageToken of the next page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// EventQuery selects archived events; empty fields select all.
type EventQuery struct {
	// Source and Type are event attributes that must match exactly.
	Source, Type string
	// SourceName is the source resource that took the events in.
	SourceName string
	// From and To bound the time the events were stored.
	From, To time.Time
	// Order is "asc" (oldest first; "" is the same) or "desc" (newest
	// first). A PageToken pages on in the order it came from.
	Order string
	// Limit is the page size (1-1000; 0: the server's default, 100).
	Limit     int
	PageToken string
}

func (q *EventQuery) values() url.Values {
	v := url.Values{}
	if q == nil {
		return v
	}
	setNonEmpty(v, "source", q.Source)
	setNonEmpty(v, "type", q.Type)
	setNonEmpty(v, "source_name", q.SourceName)
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	setNonEmpty(v, "order", q.Order)
	setNonEmpty(v, "page_token", q.PageToken)
	return v
}

// Events returns one page of archived events, oldest first unless
// q.Order is "desc".
func (c *Client) Events(ctx context.Context, q *EventQuery) (*EventList, error) {
	var out EventList
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events", query: q.values()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllEvents iterates over every archived event q selects, fetching page
// after page. It stops at the first error, which it yields.
func (c *Client) AllEvents(ctx context.Context, q *EventQuery) iter.Seq2[*ArchivedEvent, error] {
	o := EventQuery{}
	if q != nil {
		o = *q
	}
	return pages(func(token string) ([]*ArchivedEvent, string, error) {
		o.PageToken = token
		l, err := c.Events(ctx, &o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.NextPageToken, nil
	}, o.PageToken)
}

// StreamQuery selects live events; empty fields select all.
type StreamQuery struct {
	// Type and Source are event attributes that must match exactly.
	Type, Source string
	// SourceName is the source resource that takes the events in.
	SourceName string
	// Connected, when set, is called once the server has accepted the
	// stream: events taken in from then on are sent.
	Connected func()
}

// maxEventLine bounds one line of the stream (an event's JSON form).
const maxEventLine = 16 << 20

// Stream calls fn with each live event (its JSON form) that q selects, as
// the bridge takes them in, until ctx is done (it returns ctx.Err()), fn
// returns an error (it returns that error), or the server ends the stream
// (ErrStreamEnded). fn is called from one goroutine, in order. A slow fn
// makes the server drop events for this stream rather than wait.
func (c *Client) Stream(ctx context.Context, q *StreamQuery, fn func(event map[string]any) error) error {
	v := url.Values{}
	var connected func()
	if q != nil {
		setNonEmpty(v, "type", q.Type)
		setNonEmpty(v, "source", q.Source)
		setNonEmpty(v, "source_name", q.SourceName)
		connected = q.Connected
	}
	req, err := c.newRequest(ctx, request{method: http.MethodGet, path: "/v1/events:stream", query: v})
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("client: stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errorFrom(resp)
	}
	if connected != nil {
		connected()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // the end of an event
			if data.Len() == 0 {
				continue
			}
			var ev map[string]any
			err := json.Unmarshal(data.Bytes(), &ev)
			data.Reset()
			if err != nil {
				return fmt.Errorf("client: stream: an event is not JSON: %w", err)
			}
			if err := fn(ev); err != nil {
				return err
			}
		case line[0] == ':': // a comment: keep-alive
		case bytes.HasPrefix(line, []byte("data:")):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.Write(bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" ")))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("client: stream: %w", err)
	}
	return ErrStreamEnded
}

// EventType is an event type the bridge has seen, with the schema it
// inferred from samples of its data.
type EventType struct {
	Source    string    `json:"source"`
	Type      string    `json:"type"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Schema is a JSON Schema of the data.
	Schema map[string]any `json:"schema,omitempty"`
	// Samples is how many events the schema was inferred from.
	Samples int `json:"samples"`
	// DataContentType is the last content type seen.
	DataContentType string `json:"datacontenttype,omitempty"`
}

// EventTypeList is the catalog of event types.
type EventTypeList struct {
	Items []*EventType `json:"items"`
	// Overflow counts events whose type did not fit in the catalog.
	Overflow int64 `json:"overflow,omitempty"`
}

// EventTypes returns the event types the bridge has seen.
func (c *Client) EventTypes(ctx context.Context) (*EventTypeList, error) {
	var out EventTypeList
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/eventtypes"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RuleTestResult is what a rule does with one event.
type RuleTestResult struct {
	// Matched tells whether the rule's filter matched.
	Matched bool `json:"matched"`
	// Output is the event after the transform (its JSON form), when it
	// matched.
	Output map[string]any `json:"output,omitempty"`
	// Error is the transform's error, or why the event is not valid.
	Error string `json:"error,omitempty"`
}

// TestRule runs events (CloudEvents in their JSON form: maps, structs,
// json.RawMessage) through a rule without delivering them, and returns one
// result per event, in order. rule is a rule's name (a string) or a rule
// spec (any value that encodes to a JSON object).
func (c *Client) TestRule(ctx context.Context, rule any, events []any) ([]RuleTestResult, error) {
	if b, ok := rule.([]byte); ok {
		rule = json.RawMessage(b)
	}
	evs := make([]any, len(events))
	for i, e := range events {
		if b, ok := e.([]byte); ok {
			e = json.RawMessage(b)
		}
		evs[i] = e
	}
	body := map[string]any{"rule": rule, "events": evs}
	var out struct {
		Results []RuleTestResult `json:"results"`
	}
	if _, _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/rules:test", body: body}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}
