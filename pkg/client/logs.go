package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// LogQuery selects the bridge's log lines (GET /v1/logs).
type LogQuery struct {
	// Level is the lowest level shown: debug, info, warn or error.
	Level string
	// Component is a component ("router") or a prefix ending in "/"
	// ("source/").
	Component string
	// Since is a duration ("10m") or an RFC 3339 time.
	Since string
	// Tail, when 0 or more, keeps only the last Tail lines kept so far;
	// -1 keeps them all.
	Tail int
	// Follow goes on with new lines until ctx ends.
	Follow bool
}

// Logs reads the bridge's own log lines, calling fn with each (one slog
// JSON object), until the answer ends (or, with Follow, until ctx ends or
// the connection drops).
func (c *Client) Logs(ctx context.Context, q LogQuery, fn func(line json.RawMessage) error) error {
	v := url.Values{}
	setNonEmpty(v, "level", q.Level)
	setNonEmpty(v, "component", q.Component)
	setNonEmpty(v, "since", q.Since)
	if q.Tail >= 0 {
		v.Set("tail", strconv.Itoa(q.Tail))
	}
	if q.Follow {
		v.Set("follow", "true")
	}
	req, err := c.newRequest(ctx, request{method: http.MethodGet, path: "/v1/logs", query: v})
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("client: logs: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errorFrom(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if err := fn(json.RawMessage(append([]byte(nil), line...))); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("client: logs: %w", err)
	}
	return nil
}
