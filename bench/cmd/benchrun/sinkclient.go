package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// sinkClient talks to a sink's control endpoints.
type sinkClient struct {
	base string
	http *http.Client
}

func newSinkClient(base string) sinkClient {
	return sinkClient{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

func (s sinkClient) reset(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/reset", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("sink reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sink reset: %s", resp.Status)
	}
	return nil
}

func (s sinkClient) stats(ctx context.Context) (sink.Stats, error) {
	var st sink.Stats
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/stats", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		return st, fmt.Errorf("sink stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("sink stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("sink stats: %w", err)
	}
	return st, nil
}
