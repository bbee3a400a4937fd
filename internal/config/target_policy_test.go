package config

import (
	"strings"
	"testing"
	"time"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/http"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/log"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/redis"
)

// rate_limit and circuit_breaker are settings of every target kind (and of
// no source): they decode and validate the same way for each.
func TestParseTargetRateLimitAndCircuitBreaker(t *testing.T) {
	c, err := Parse([]byte(`
targets:
  stream:
    type: redis
    url: redis://127.0.0.1:6379
    stream: events
    rate_limit: {per_second: 0.5}
    circuit_breaker: {failures: 2, open_for: 10s}
  out: {type: log}
`))
	if err != nil {
		t.Fatalf("Parse: %s", String(err))
	}
	b := c.Targets["stream"].Base()
	if b.RateLimit == nil || b.RateLimit.PerSecond != 0.5 || b.CircuitBreaker == nil || b.CircuitBreaker.Failures != 2 || b.CircuitBreaker.OpenFor.D() != 10*time.Second {
		t.Errorf("redis target: rate_limit %+v, circuit_breaker %+v", b.RateLimit, b.CircuitBreaker)
	}
	if b := c.Targets["out"].Base(); b.RateLimit != nil || b.CircuitBreaker != nil {
		t.Errorf("log target without settings: %+v %+v", b.RateLimit, b.CircuitBreaker)
	}
	for _, bad := range []struct{ yaml, want string }{
		{`targets: {out: {type: log, rate_limit: {per_second: 0}}}`, "targets.out.rate_limit.per_second"},
		{`targets: {out: {type: log, rate_limit: {per_second: 1, burst: -1}}}`, "targets.out.rate_limit.burst"},
		{`targets: {out: {type: log, circuit_breaker: {failures: -2}}}`, "targets.out.circuit_breaker.failures"},
		{`targets: {out: {type: log, circuit_breaker: {open_for: -1s}}}`, "targets.out.circuit_breaker.open_for"},
		{`sources: {in: {type: http, path: /in, rate_limit: {per_second: 1}}}`, "settings of targets, not of sources"},
	} {
		_, err := Parse([]byte(bad.yaml))
		if err == nil || !strings.Contains(String(err), bad.want) {
			t.Errorf("%s: %v, want a problem at %s", bad.yaml, err, bad.want)
		}
	}
}
