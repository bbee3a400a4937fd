package poll

import (
	"net/http"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// DefaultType is the type of the events when event.type is not set.
const DefaultType = "dev.eventbridge.poll"

// Config configures a poll source.
type Config struct {
	connector.Common `yaml:",inline"`
	// Timing is every or cron (with timezone).
	jobs.Timing `yaml:",inline"`
	// URL is the API to poll.
	URL string `json:"url"`
	// Method is GET (default) or POST.
	Method string `json:"method,omitempty"`
	// Headers are sent with every request. Values may be secret references.
	Headers map[string]spec.Secret `json:"headers,omitempty"`
	// Body is sent with POST (Content-Type application/json unless a
	// header says otherwise).
	Body string `json:"body,omitempty"`
	// Auth adds credentials (basic, bearer, api_key, oauth2).
	Auth *httpauth.Config `json:"auth,omitempty"`
	// Items is a jq expression yielding the items of a response body.
	// Default ".": the body is one item. ".[]" for an array, ".data[]"…
	Items string `json:"items,omitempty"`
	// ID is a jq expression over an item yielding its identity. Default:
	// a hash of the item (any change makes it a new item).
	ID string `json:"id,omitempty"`
	// Subject, optional, is a jq expression over an item yielding the
	// event's subject.
	Subject string `json:"subject,omitempty"`
	// Time, optional, is a jq expression over an item yielding the
	// event's time (RFC 3339 text or Unix seconds). Default: when the
	// item was fetched.
	Time string `json:"time,omitempty"`
	// Event sets the type and source of the events.
	Event Event `json:"event,omitempty"`
	// Pagination says how to find the next page.
	Pagination Pagination `json:"pagination,omitempty"`
	// Seen bounds the memory of items already emitted.
	Seen Seen `json:"seen,omitempty"`
	// Conditional sends If-None-Match / If-Modified-Since with the
	// validators of the last complete run, so an unchanged API answers 304.
	// Default true.
	Conditional *bool `json:"conditional,omitempty"`
	// Timeout bounds one run, all pages included. Default 60s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// MaxBody limits one response body. Default 10MiB.
	MaxBody spec.ByteSize `json:"max_body,omitempty"`
	// BlockPrivate refuses to connect to loopback, link-local, private and
	// other non-public addresses (checked on the address dialled, after DNS,
	// so redirects and token requests are held to it too) and ignores the
	// environment's proxy. Sources created through the API are held to it
	// whatever it says, unless api.allow_private_addresses is set.
	BlockPrivate bool `json:"block_private,omitempty"`
	// Backoff bounds the waits before retrying a failed run (a 429 or 503
	// with Retry-After waits as told). Default 1s to 5m.
	Backoff Backoff `json:"backoff,omitempty"`
}

// Event is the type and source of the events.
type Event struct {
	// Type defaults to dev.eventbridge.poll.
	Type string `json:"type,omitempty"`
	// Source defaults to the URL without its query.
	Source string `json:"source,omitempty"`
}

// Pagination finds the next page: a jq expression over the response when
// Next is set, else the Link header's rel="next".
type Pagination struct {
	// Next is a jq expression over a response body yielding the next
	// page: a URL (absolute, or relative to the page's), or, with
	// CursorParam, a cursor value. null, false, "" or nothing: the last
	// page. $headers (lower-case names) and $url are the page's.
	Next string `json:"next,omitempty"`
	// CursorParam is the query parameter the cursor goes in, on the
	// source's URL.
	CursorParam string `json:"cursor_param,omitempty"`
	// MaxPages bounds the pages of one run. Default 10.
	MaxPages int `json:"max_pages,omitempty"`
}

// Seen bounds the ids remembered so that items are emitted once.
type Seen struct {
	// Max ids are kept (the most recently seen). Default 10000; at most
	// 50000.
	Max int `json:"max,omitempty"`
	// TTL forgets ids not seen in a response for this long. Default 168h.
	TTL spec.Duration `json:"ttl,omitempty"`
}

// Backoff bounds the waits between failed runs.
type Backoff struct {
	Initial spec.Duration `json:"initial,omitempty"`
	Max     spec.Duration `json:"max,omitempty"`
}

// MaxSeen is the largest seen.max: the set is one KV value of 12 bytes
// an id, kept under NATS's default 1MiB payload.
const MaxSeen = 50_000

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	c.Method = strings.ToUpper(c.Method)
	if c.Items == "" {
		c.Items = "."
	}
	if c.Event.Type == "" {
		c.Event.Type = DefaultType
	}
	if c.Pagination.MaxPages == 0 {
		c.Pagination.MaxPages = 10
	}
	if c.Seen.Max == 0 {
		c.Seen.Max = 10_000
	}
	if c.Seen.TTL == 0 {
		c.Seen.TTL = spec.Duration(7 * 24 * time.Hour)
	}
	if c.Conditional == nil {
		on := true
		c.Conditional = &on
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(60 * time.Second)
	}
	if c.MaxBody == 0 {
		c.MaxBody = 10 << 20
	}
	if c.Backoff.Initial == 0 {
		c.Backoff.Initial = spec.Duration(time.Second)
	}
	if c.Backoff.Max == 0 {
		c.Backoff.Max = spec.Duration(5 * time.Minute)
	}
	if c.Auth != nil {
		c.Auth.Defaults()
	}
}

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Timing.Validate(p, false)
	connector.ValidateHTTPURL(p, "url", c.URL)
	if c.Method != http.MethodGet && c.Method != http.MethodPost {
		p.AddAt("method", "must be GET or POST")
	}
	if c.Body != "" && c.Method != http.MethodPost {
		p.AddAt("body", "only POST requests have a body")
	}
	if c.Auth != nil {
		c.Auth.Validate(p.At("auth"))
	}
	if _, err := compilePrograms(c); err != nil {
		if pe, ok := err.(*programError); ok {
			p.AddAt(pe.field, "%v", pe.err)
		} else {
			p.Add("%v", err)
		}
	}
	e := ce.New()
	e.SetID("x")
	e.SetType(c.Event.Type)
	e.SetSource(c.Event.Source)
	if c.Event.Source == "" {
		e.SetSource("http://example.com/")
	}
	if err := e.Validate(); err != nil {
		p.AddAt("event", "%v", err)
	}
	if c.Pagination.MaxPages < 1 || c.Pagination.MaxPages > 1000 {
		p.AddAt("pagination.max_pages", "must be between 1 and 1000")
	}
	if c.Pagination.CursorParam != "" && c.Pagination.Next == "" {
		p.AddAt("pagination.cursor_param", "needs pagination.next, the expression that yields the cursor")
	}
	if c.Seen.Max < 1 || c.Seen.Max > MaxSeen {
		p.AddAt("seen.max", "must be between 1 and %d", MaxSeen)
	}
	if c.Seen.TTL.D() < time.Minute {
		p.AddAt("seen.ttl", "must be at least 1m")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.MaxBody < 1024 {
		p.AddAt("max_body", "must be at least 1KiB")
	}
	if c.Backoff.Initial.D() <= 0 || c.Backoff.Max.D() < c.Backoff.Initial.D() {
		p.AddAt("backoff", "initial must be positive and max at least initial")
	}
}

// OutboundAddresses implements connector.Outbound.
func (c *Config) OutboundAddresses() []connector.Address {
	out := []connector.Address{{Field: "url", Value: c.URL}}
	return append(out, c.Auth.OutboundAddresses("auth")...)
}

var (
	_ connector.Config   = (*Config)(nil)
	_ connector.Outbound = (*Config)(nil)
)
