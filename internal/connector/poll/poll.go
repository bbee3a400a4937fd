// Package poll is the poll source: it fetches an HTTP API on a schedule
// and turns each new item of the responses into a CloudEvent.
//
// A run fetches the URL (and its next pages), picks the items out of each
// body with a jq expression, drops those emitted before, and ingests the
// rest of each page as one batch. Only once the bus has stored a page's
// events are their ids marked as seen; the seen ids and the HTTP
// validators (ETag, Last-Modified) are kept in the bus, so they survive
// restarts and are shared by the instances that may take the job over.
package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/itchyny/gojq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// Keys of the source's state (jobs.Scheduler.State).
const (
	keySeen       = "seen"
	keyValidators = "http"
)

// Source polls an HTTP API.
type Source struct {
	connector.JobSource
	cfg    *Config
	progs  *programs
	client *http.Client
	auth   httpauth.Authenticator
	source string
	now    func() time.Time

	received prometheus.Counter
	rejected prometheus.Counter
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*Config)
	s := &Source{cfg: cfg, source: cfg.Event.Source, now: time.Now}
	if err := s.Init(name, deps, cfg); err != nil {
		return nil, err
	}
	progs, err := compilePrograms(cfg)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	guard := deps.Guard
	if guard == nil && cfg.BlockPrivate {
		guard = netguard.Strict
	}
	// The guard holds every connection: pages, redirects, next pages and
	// token requests alike.
	dialer := guard.Dialer(&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second})
	proxy := http.ProxyFromEnvironment
	if guard != nil {
		proxy = nil // a proxy would reach private addresses on our behalf
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy: proxy, DialContext: dialer.DialContext,
			MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		Timeout: cfg.Timeout.D(),
	}
	s.progs, s.client, s.auth = progs, client, httpauth.New(cfg.Auth, httpauth.WithClient(client))
	if s.source == "" {
		s.source = redactSource(cfg.URL)
	}
	if deps.Metrics != nil {
		s.received = deps.Metrics.Received.WithLabelValues(name)
		s.rejected = deps.Metrics.Rejected.WithLabelValues(name, "invalid")
	}
	s.Set(component.New, nil)
	return s, nil
}

// redactSource is the default event source: the URL without its query
// (which may hold an API key) or credentials.
func redactSource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// Start schedules the source's job; the first poll runs at once.
func (s *Source) Start(ctx context.Context) error {
	s.SetDetail("url", redact(s.cfg.URL))
	return s.StartJob(ctx, jobs.Job{
		Kind: jobs.KindPoll, Immediate: true,
		Timeout: s.cfg.Timeout.D(), MinBackoff: s.cfg.Backoff.Initial.D(), MaxBackoff: s.cfg.Backoff.Max.D(),
		Run: s.run,
	})
}

// Stop unschedules the job; a poll in progress is cancelled (what it
// stored stays stored and marked seen).
func (s *Source) Stop(ctx context.Context) error {
	err := s.StopJob(ctx)
	s.client.CloseIdleConnections()
	return err
}

// run is one poll: every page, or up to pagination.max_pages.
func (s *Source) run(ctx context.Context, _ jobs.Run) (jobs.Result, error) {
	state := s.Deps.Jobs.State(s.Name)
	seen, err := s.loadSeen(ctx, state)
	if err != nil {
		return jobs.Result{}, err
	}
	var prev *validators
	if *s.cfg.Conditional {
		prev = s.loadValidators(ctx, state)
	}
	target, emitted := s.cfg.URL, 0
	visited := map[string]bool{}
	var fresh *validators
	complete := false
	for n := 1; ; n++ {
		var cond *validators
		if n == 1 {
			cond = prev
		}
		pg, err := s.fetch(ctx, target, cond)
		if err != nil {
			return jobs.Result{Items: emitted}, err
		}
		if pg.notModified {
			complete = false // nothing changed: keep the validators we have
			break
		}
		if n == 1 {
			fresh = &validators{URL: s.cfg.URL, ETag: pg.header.Get("ETag"), LastModified: pg.header.Get("Last-Modified")}
		}
		body, err := decodeBody(pg.body)
		if err != nil {
			return jobs.Result{Items: emitted}, fmt.Errorf("page %d: %w", n, err)
		}
		k, err := s.emit(ctx, body, seen)
		emitted += k
		if err != nil {
			return jobs.Result{Items: emitted}, fmt.Errorf("page %d: %w", n, err)
		}
		if seen.dirty {
			if err := state.Put(ctx, keySeen, seen.encode(s.now())); err != nil {
				return jobs.Result{Items: emitted}, fmt.Errorf("save the seen ids: %w", err)
			}
			seen.dirty = false
		}
		visited[target] = true
		next, err := s.nextPage(ctx, pg, body)
		if err != nil {
			return jobs.Result{Items: emitted}, fmt.Errorf("page %d: %w", n, err)
		}
		if next == "" {
			complete = true
			break
		}
		if visited[next] {
			s.Log.Warn("the next page is one already fetched; stopping", "source", s.Name, "url", redact(next))
			complete = true
			break
		}
		if n >= s.cfg.Pagination.MaxPages {
			s.Log.Info("stopped at pagination.max_pages", "source", s.Name, "pages", n)
			break
		}
		target = next
	}
	// Only a run that saw every page may answer for the next one with a
	// 304: the validators are of the first page.
	if complete && *s.cfg.Conditional && !fresh.empty() && (prev == nil || *prev != *fresh) {
		if b, err := json.Marshal(fresh); err == nil {
			if err := state.Put(ctx, keyValidators, b); err != nil {
				s.Log.Warn("cannot save the HTTP validators", "source", s.Name, "err", err)
			}
		}
	}
	return jobs.Result{Items: emitted}, nil
}

// emit ingests the page's new items as one batch and then marks them
// seen; it returns how many it emitted.
func (s *Source) emit(ctx context.Context, body any, seen *seenSet) (int, error) {
	items, err := all(ctx, s.progs.items, body)
	if err != nil {
		return 0, fmt.Errorf("items: %w", err)
	}
	now := s.now()
	var events []*ce.Event
	var ids []string
	inPage := map[string]bool{}
	for i, item := range items {
		if item == nil {
			continue
		}
		e, err := s.event(ctx, item, now)
		if err != nil {
			if s.rejected != nil {
				s.rejected.Inc()
			}
			s.Log.Warn("skipping an item", "source", s.Name, "item", i, "err", err)
			continue
		}
		ids = append(ids, e.ID())
		if seen.has(e.ID(), now) || inPage[e.ID()] {
			continue
		}
		inPage[e.ID()] = true
		events = append(events, e)
	}
	if len(events) > 0 {
		if s.received != nil {
			s.received.Add(float64(len(events)))
		}
		if err := s.Deps.Ingest.Ingest(ctx, s.Name, events); err != nil {
			return 0, fmt.Errorf("store %d events: %w", len(events), err)
		}
	}
	for _, id := range ids {
		seen.mark(id, now)
	}
	return len(events), nil
}

// event turns an item into a CloudEvent.
func (s *Source) event(ctx context.Context, item any, now time.Time) (*ce.Event, error) {
	data, err := gojq.Marshal(item)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	id := ""
	if s.progs.id != nil {
		v, err := first(ctx, s.progs.id, item)
		if err != nil {
			return nil, fmt.Errorf("id: %w", err)
		}
		id = scalar(v)
	}
	if id == "" {
		id = hashID(data)
	}
	e := ce.New()
	e.SetID(id)
	e.SetType(s.cfg.Event.Type)
	e.SetSource(s.source)
	e.SetTime(now.UTC())
	if s.progs.subject != nil {
		v, err := first(ctx, s.progs.subject, item)
		if err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
		if sub := scalar(v); sub != "" {
			e.SetSubject(sub)
		}
	}
	if s.progs.time != nil {
		v, err := first(ctx, s.progs.time, item)
		if err != nil {
			return nil, fmt.Errorf("time: %w", err)
		}
		if v != nil {
			t, err := eventTime(v)
			if err != nil {
				return nil, err
			}
			e.SetTime(t)
		}
	}
	ebevent.SetData(&e, "application/json", data)
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// nextPage finds the next page's URL ("" at the last page).
func (s *Source) nextPage(ctx context.Context, pg *page, body any) (string, error) {
	if s.progs.next == nil {
		return nextLink(pg.header, pg.url), nil
	}
	headers := map[string]any{}
	for k, v := range pg.header {
		if len(v) > 0 {
			headers[strings.ToLower(k)] = v[0]
		}
	}
	v, err := first(ctx, s.progs.next, body, headers, pg.url)
	if err != nil {
		return "", fmt.Errorf("pagination.next: %w", err)
	}
	if b, ok := v.(bool); ok && !b {
		return "", nil
	}
	next := scalar(v)
	if next == "" {
		return "", nil
	}
	if p := s.cfg.Pagination.CursorParam; p != "" {
		u, err := url.Parse(s.cfg.URL)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set(p, next)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	if u, err := url.Parse(next); err != nil || (u.Scheme == "" && !strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "?")) {
		return "", errNotURL
	}
	if r := resolve(pg.url, next); r != "" {
		return r, nil
	}
	return "", errNotURL
}

func decodeBody(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the response is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("the response is not one JSON value")
	}
	return v, nil
}

func (s *Source) loadSeen(ctx context.Context, st jobs.Store) (*seenSet, error) {
	b, err := st.Get(ctx, keySeen)
	if err != nil && !errors.Is(err, jobs.ErrNotFound) {
		return nil, fmt.Errorf("load the seen ids: %w", err)
	}
	set, err := decodeSeen(b, s.cfg.Seen.Max, s.cfg.Seen.TTL.D())
	if err != nil {
		s.Log.Warn("the seen ids are unreadable; starting afresh", "source", s.Name, "err", err)
		set = newSeenSet(s.cfg.Seen.Max, s.cfg.Seen.TTL.D())
	}
	return set, nil
}

func (s *Source) loadValidators(ctx context.Context, st jobs.Store) *validators {
	b, err := st.Get(ctx, keyValidators)
	if err != nil {
		return nil
	}
	var v validators
	if json.Unmarshal(b, &v) != nil || v.URL != s.cfg.URL {
		return nil // another URL's: the config changed
	}
	return &v
}

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "poll",
		Doc:       "polls an HTTP API on a schedule and emits each new item as an event",
		NewConfig: func() connector.Config { return &Config{} },
		New:       newSource,
	})
}

var _ connector.Source = (*Source)(nil)
