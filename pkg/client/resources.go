package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is a kind of resource.
type Kind string

// The kinds of resources.
const (
	KindSource Kind = "source"
	KindTarget Kind = "target"
	KindRule   Kind = "rule"
)

// Kinds lists the kinds in the order they can be created: targets and
// sources before the rules that name them.
var Kinds = []Kind{KindTarget, KindSource, KindRule}

// Plural is the kind's name in URLs ("rules").
func (k Kind) Plural() string { return string(k) + "s" }

func (k Kind) valid() error {
	switch k {
	case KindSource, KindTarget, KindRule:
		return nil
	}
	return fmt.Errorf("client: unknown kind %q: source, target or rule", string(k))
}

// Origins of a resource.
const (
	// OriginFile marks a resource from the bridge's config file; the API
	// cannot change or delete it (409).
	OriginFile = "file"
	// OriginAPI marks a resource created through the API.
	OriginAPI = "api"
)

// Resource is a source, target or rule as the API shows it.
type Resource struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Origin string `json:"origin"`
	// File is the config file of a resource of origin "file".
	File string `json:"file,omitempty"`
	// Revision is the store revision; send it as IfMatch to update only
	// this version.
	Revision uint64            `json:"revision"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Paused is set on a paused rule, source or target.
	Paused bool `json:"paused,omitempty"`
	// Spec is the spec (the config file entry as JSON), with secret values
	// shown as "***" (secret references stay visible).
	Spec json.RawMessage `json:"spec"`
	// Status is what runs; Get fills it in, List does not.
	Status *Status `json:"status,omitempty"`
}

// Status is what runs for a resource.
type Status struct {
	// State is running, failed, paused or pending.
	State string    `json:"state"`
	Since time.Time `json:"since"`
	Error string    `json:"error,omitempty"`
	// Problems are the spec's problems, when it failed to apply.
	Problems []FieldError `json:"problems,omitempty"`
	// Revision is the store revision the bridge last applied.
	Revision uint64 `json:"revision"`
	// Components are the running parts (the source, the target, a rule's
	// routes) by name.
	Components map[string]ComponentStatus `json:"components,omitempty"`
	// Counters are the resource's main metrics.
	Counters map[string]float64 `json:"counters,omitempty"`
}

// ComponentStatus is the health of one running part.
type ComponentStatus struct {
	// State is new, starting, running, stopping, terminated or failed.
	State     string         `json:"state"`
	Since     time.Time      `json:"since"`
	LastError string         `json:"last_error,omitempty"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// SpecType returns the spec's "type" member (a source's or target's
// connector type), or "".
func (r *Resource) SpecType() string {
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(r.Spec, &head)
	return head.Type
}

// ResourceList is a page of resources.
type ResourceList struct {
	Items []*Resource `json:"items"`
	// NextPageToken, when set, is the PageToken of the next page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// ListOptions select resources.
type ListOptions struct {
	// Labels are selectors, ANDed: "key=value" (equal) or "key" (present).
	Labels []string
	// Limit is the page size (1-1000; 0: the server's default, 100).
	Limit int
	// PageToken continues from a previous page.
	PageToken string
}

// LabelSelectors turns a map into Labels selectors, sorted.
func LabelSelectors(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (o *ListOptions) query() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	for _, l := range o.Labels {
		q.Add("label", l)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.PageToken != "" {
		q.Set("page_token", o.PageToken)
	}
	return q
}

// List returns one page of resources of a kind, in name order, without
// their status.
func (c *Client) List(ctx context.Context, kind Kind, opts *ListOptions) (*ResourceList, error) {
	if err := kind.valid(); err != nil {
		return nil, err
	}
	var out ResourceList
	_, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + kind.Plural(), query: opts.query()}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// All iterates over every resource of a kind that opts select, fetching
// page after page. It stops at the first error, which it yields.
func (c *Client) All(ctx context.Context, kind Kind, opts *ListOptions) iter.Seq2[*Resource, error] {
	o := ListOptions{}
	if opts != nil {
		o = *opts
	}
	return pages(func(token string) ([]*Resource, string, error) {
		o.PageToken = token
		l, err := c.List(ctx, kind, &o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.NextPageToken, nil
	}, o.PageToken)
}

// Get returns a resource with its status.
func (c *Client) Get(ctx context.Context, kind Kind, name string) (*Resource, error) {
	if err := kind.valid(); err != nil {
		return nil, err
	}
	var out Resource
	if _, _, err := c.do(ctx, request{method: http.MethodGet, path: resourcePath(kind, name)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutOptions are the preconditions of Put and Delete.
type PutOptions struct {
	// IfMatch, when not 0, applies the change only if the resource is at
	// this revision (else a 412 error: IsPreconditionFailed).
	IfMatch uint64
	// CreateOnly creates the resource only if it does not exist (else a
	// 412 error). Put only.
	CreateOnly bool
	// PendingSources are sources a rule may name before they exist: those
	// the caller creates right after the rule (as apply does, so that a
	// source's first events find their rules). Put of a rule only.
	PendingSources []string
}

func (o *PutOptions) query() url.Values {
	if o == nil || len(o.PendingSources) == 0 {
		return nil
	}
	return url.Values{"pending_sources": {strings.Join(o.PendingSources, ",")}}
}

func (o *PutOptions) header() http.Header {
	h := http.Header{}
	if o == nil {
		return h
	}
	if o.IfMatch > 0 {
		h.Set("If-Match", `"`+strconv.FormatUint(o.IfMatch, 10)+`"`)
	}
	if o.CreateOnly {
		h.Set("If-None-Match", "*")
	}
	return h
}

// Put creates or replaces a resource from its spec: the same members as
// the resource's entry in the config file, as any value that encodes to a
// JSON object (json.RawMessage and []byte are sent as they are). Values
// "***" keep the stored secret at that place, so a spec read with Get can
// be sent back. created tells whether it was new.
func (c *Client) Put(ctx context.Context, kind Kind, name string, spec any, opts *PutOptions) (res *Resource, created bool, err error) {
	if err := kind.valid(); err != nil {
		return nil, false, err
	}
	if spec == nil {
		return nil, false, fmt.Errorf("client: put %s %q: no spec", kind, name)
	}
	var out Resource
	_, status, err := c.do(ctx, request{method: http.MethodPut, path: resourcePath(kind, name), query: opts.query(), body: spec, header: opts.header()}, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// Delete removes a resource. A resource from the config file, or a source
// or target a rule names, is not removed (a 409 error: IsConflict).
func (c *Client) Delete(ctx context.Context, kind Kind, name string, opts *PutOptions) error {
	if err := kind.valid(); err != nil {
		return err
	}
	_, _, err := c.do(ctx, request{method: http.MethodDelete, path: resourcePath(kind, name), header: opts.header()}, nil)
	return err
}

// Pause stops a rule's deliveries; its events wait on disk until Resume.
// It returns the rule.
func (c *Client) Pause(ctx context.Context, rule string) (*Resource, error) {
	return c.ruleAction(ctx, rule, "pause")
}

// Resume restarts a paused rule's deliveries. It returns the rule.
func (c *Client) Resume(ctx context.Context, rule string) (*Resource, error) {
	return c.ruleAction(ctx, rule, "resume")
}

// PauseResource pauses a source, target or rule; it returns the
// resource. A paused source takes no events (one that answers requests
// answers 503 with Retry-After); a paused target's deliveries wait in
// RETRY, using no attempt, until ResumeResource.
func (c *Client) PauseResource(ctx context.Context, kind Kind, name string) (*Resource, error) {
	if err := kind.valid(); err != nil {
		return nil, err
	}
	return c.action(ctx, kind, name, "pause")
}

// ResumeResource resumes a paused source, target or rule.
func (c *Client) ResumeResource(ctx context.Context, kind Kind, name string) (*Resource, error) {
	if err := kind.valid(); err != nil {
		return nil, err
	}
	return c.action(ctx, kind, name, "resume")
}

func (c *Client) ruleAction(ctx context.Context, rule, action string) (*Resource, error) {
	return c.action(ctx, KindRule, rule, action)
}

func (c *Client) action(ctx context.Context, kind Kind, name, action string) (*Resource, error) {
	var out Resource
	if _, _, err := c.do(ctx, request{method: http.MethodPost, path: resourcePath(kind, name) + ":" + action}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func resourcePath(kind Kind, name string) string {
	return "/v1/" + kind.Plural() + "/" + seg(name)
}

// pages iterates over the items of successive pages from fetch, which
// returns a page's items and the next page's token ("" at the end).
func pages[T any](fetch func(token string) ([]T, string, error), first string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		token := first
		for {
			items, next, err := fetch(token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == token {
				return
			}
			token = next
		}
	}
}

// Collect gathers what an iterator of this package yields into a slice,
// stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseKind reads a kind from what people type: source, sources, src,
// target, targets, tgt, rule, rules.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "source", "sources", "src", "srcs":
		return KindSource, nil
	case "target", "targets", "tgt", "tgts":
		return KindTarget, nil
	case "rule", "rules", "rl":
		return KindRule, nil
	}
	return "", fmt.Errorf("unknown kind %q: source (src), target (tgt) or rule", s)
}
