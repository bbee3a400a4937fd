package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// backlog is what a bridge still holds for delivery, from its /metrics
// (the eventbridge_stream_messages gauges, refreshed every 5 s, and
// eventbridge_router_unsettled): events not yet settled by every route
// (WORK, or the router's count when it routes from ingest and WORK is not
// written) and deliveries waiting for
// another attempt, overflowed or deferred (RETRY).
type backlog struct {
	Work  uint64 `json:"work"`
	Retry uint64 `json:"retry"`
}

func (b backlog) empty() bool { return b.Work == 0 && b.Retry == 0 }

// readBacklog reads the backlog of the bridge whose ingest URL is
// ingestURL (its /metrics is on the same listener).
func readBacklog(ctx context.Context, ingestURL string) (backlog, error) {
	u := strings.TrimSuffix(strings.TrimSuffix(ingestURL, "/"), "/events") + "/metrics"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return backlog{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return backlog{}, err
	}
	defer resp.Body.Close()
	var b backlog
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		unsettled := strings.HasPrefix(line, "eventbridge_router_unsettled ")
		if !unsettled && !strings.HasPrefix(line, "eventbridge_stream_messages{") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		switch {
		case unsettled: // routed from ingest: WORK is not written
			b.Work += uint64(v)
		case strings.Contains(line, `stream="WORK"`):
			b.Work += uint64(v)
		case strings.Contains(line, `stream="RETRY"`):
			b.Retry = uint64(v)
		}
	}
	return b, sc.Err()
}

// drainHonest waits, as drainBy, until got(stats) reaches want, and gives
// up after r.cfg.DrainQuiet without a new arrival only when the bridge
// holds nothing more (WORK and RETRY empty): deliveries waiting in RETRY
// (a backoff after a failed attempt, an overflow) or in WORK (an event
// handed out again after a failed write) are late, not lost, and are
// waited for until timeout. It returns the backlog seen last.
func (r *runner) drainHonest(ctx context.Context, sc counter, ingestURL string, want uint64, got func(sink.Stats) uint64, timeout time.Duration) (sink.Stats, bool, backlog, error) {
	deadline := time.Now().Add(timeout)
	var last uint64
	var bl backlog
	lastMove := time.Now()
	for {
		st, err := sc.stats(ctx)
		if err != nil {
			return st, false, bl, err
		}
		now := time.Now()
		switch {
		case got(st) >= want:
			return st, true, backlog{}, nil
		case st.Count != last:
			last, lastMove = st.Count, now
		case now.After(deadline):
			return st, false, bl, nil
		case now.Sub(lastMove) > r.cfg.DrainQuiet:
			// Quiet: give up only when the bridge holds nothing (the
			// gauges lag up to 5 s: look again after that).
			if bl, err = readBacklog(ctx, ingestURL); err == nil && bl.empty() && now.Sub(lastMove) > r.cfg.DrainQuiet+6*time.Second {
				return st, false, bl, nil
			}
			if err != nil && now.Sub(lastMove) > 2*r.cfg.DrainQuiet {
				return st, false, bl, nil
			}
		}
		select {
		case <-ctx.Done():
			return st, false, bl, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
