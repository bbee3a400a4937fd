package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
)

// validators are a response's ETag and Last-Modified, sent back as
// If-None-Match and If-Modified-Since.
type validators struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

func (v *validators) empty() bool { return v == nil || (v.ETag == "" && v.LastModified == "") }

// page is one response.
type page struct {
	url         string
	notModified bool
	header      http.Header
	body        []byte
}

// StatusError is a response the source cannot use.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// maxRetryAfter caps how long a Retry-After may hold a source back.
const maxRetryAfter = 24 * time.Hour

// fetch gets one page. A 401 with OAuth2 drops the token and tries once
// more with a new one. 429 and 503 with Retry-After say when to retry.
func (s *Source) fetch(ctx context.Context, target string, v *validators) (*page, error) {
	for attempt := 1; ; attempt++ {
		req, err := s.request(ctx, target, v)
		if err != nil {
			return nil, err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", s.cfg.Method, redact(target), err)
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(s.cfg.MaxBody)+1))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotModified && !v.empty():
			return &page{url: target, notModified: true, header: resp.Header}, nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if rerr != nil {
				return nil, fmt.Errorf("%s %s: read: %w", s.cfg.Method, redact(target), rerr)
			}
			if int64(len(body)) > int64(s.cfg.MaxBody) {
				return nil, fmt.Errorf("%s %s: the body is over max_body (%d bytes)", s.cfg.Method, redact(target), s.cfg.MaxBody)
			}
			return &page{url: target, header: resp.Header, body: body}, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 1 && s.auth.Reject():
			continue
		}
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		err = fmt.Errorf("%s %s: %w", s.cfg.Method, redact(target), &StatusError{Code: resp.StatusCode, Body: snippet})
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				return nil, jobs.RetryAfter(err, min(d, maxRetryAfter))
			}
		}
		return nil, err
	}
}

func (s *Source) request(ctx context.Context, target string, v *validators) (*http.Request, error) {
	var body io.Reader
	if s.cfg.Method == http.MethodPost {
		body = strings.NewReader(s.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", redact(target), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "eventbridge-poll")
	if s.cfg.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, val := range s.cfg.Headers {
		req.Header.Set(k, val.Value())
	}
	if v != nil {
		if v.ETag != "" {
			req.Header.Set("If-None-Match", v.ETag)
		}
		if v.LastModified != "" {
			req.Header.Set("If-Modified-Since", v.LastModified)
		}
	}
	if err := s.auth.Apply(ctx, req); err != nil {
		return nil, err
	}
	return req, nil
}

// retryAfter reads a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// nextLink returns the target of the Link header's rel="next" (RFC 8288),
// resolved against base, or "".
func nextLink(h http.Header, base string) string {
	for _, v := range h.Values("Link") {
		for _, link := range splitLinks(v) {
			open, close := strings.IndexByte(link, '<'), strings.IndexByte(link, '>')
			if open < 0 || close < open {
				continue
			}
			target := link[open+1 : close]
			for _, param := range strings.Split(link[close+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return resolve(base, target)
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links
// (not those inside <…> or quotes).
func splitLinks(v string) []string {
	var out []string
	inURL, inQuote, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '<' && !inQuote:
			inURL = true
		case c == '>' && !inQuote:
			inURL = false
		case c == '"' && !inURL:
			inQuote = !inQuote
		case c == ',' && !inURL && !inQuote:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	u := b.ResolveReference(r)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

// redact drops the query and credentials of a URL for logs and errors
// (API keys travel in queries).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

// errNotURL is returned when pagination.next yields text that is not a
// URL and no cursor_param says where a cursor goes.
var errNotURL = errors.New("pagination.next yielded text that is not a URL; set pagination.cursor_param to send it as a cursor")
