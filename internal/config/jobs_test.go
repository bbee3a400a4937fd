package config

import (
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/cron"
	httpc "github.com/eventbridge-dev/eventbridge/internal/connector/http"
	"github.com/eventbridge-dev/eventbridge/internal/connector/poll"
)

func TestParseJobs(t *testing.T) {
	t.Setenv("EB_TEST_GH_TOKEN", "ghp_x")
	c, err := Parse([]byte(`
jobs: {workers: 8, lease_ttl: 30s}
sources:
  issues:
    type: poll
    url: https://api.github.com/repos/o/r/issues?state=all
    every: 5m
    auth: {bearer: "${env:EB_TEST_GH_TOKEN}"}
    items: '.[]'
    id: '.id'
    event: {type: com.github.issue}
  tick:
    type: cron
    cron: "*/5 * * * *"
    timezone: Europe/Berlin
    catch_up: true
    event: {type: com.example.tick, data: {report: daily, n: [1, 2]}}
targets:
  api:
    type: http
    url: https://api.example/hook
    auth: {oauth2: {token_url: https://auth.example/token, client_id: me, client_secret: s, scopes: [write]}}
    rate_limit: {per_second: 5}
    circuit_breaker: {failures: 3, open_for: 1m}
`))
	if err != nil {
		t.Fatalf("Parse: %s", String(err))
	}
	if c.Jobs.Workers != 8 || c.Jobs.LeaseTTL.D() != 30*time.Second {
		t.Errorf("jobs = %+v", c.Jobs)
	}
	p := c.Sources["issues"].(*poll.Config)
	if p.Every.D() != 5*time.Minute || p.Auth.Bearer.Value() != "ghp_x" || p.Items != ".[]" || p.Seen.Max != 10000 {
		t.Errorf("poll = %+v", p)
	}
	cr := c.Sources["tick"].(*cron.Config)
	if cr.Cron != "*/5 * * * *" || cr.Timezone != "Europe/Berlin" || !cr.CatchUp || cr.MaxCatchUp != 10 {
		t.Errorf("cron = %+v", cr)
	}
	if d, ok := cr.Event.Data.(map[string]any); !ok || d["report"] != "daily" {
		t.Errorf("cron data = %#v", cr.Event.Data)
	}
	tg := c.Targets["api"].(*httpc.TargetConfig)
	if tg.Auth.OAuth2.ClientAuth != "header" || tg.RateLimit.Burst != 5 || tg.CircuitBreaker.OpenFor.D() != time.Minute {
		t.Errorf("target = %+v %+v %+v", tg.Auth.OAuth2, tg.RateLimit, tg.CircuitBreaker)
	}

	d, err := Parse([]byte("sources: {}\n"))
	if err != nil || d.Jobs.Workers != 4 || d.Jobs.LeaseTTL.D() != 15*time.Second {
		t.Errorf("defaults: %+v, %v", d.Jobs, err)
	}
}

func TestParseJobsProblems(t *testing.T) {
	_, err := Parse([]byte(`jobs:
  workers: 0
  lease_ttl: 10ms
sources:
  p:
    type: poll
    url: https://x/
    every: 1m
    cron: "* * * * *"
  c:
    type: cron
    cron: "*/5 * *"
`))
	got := String(err)
	for _, want := range []string{"line 3: jobs.lease_ttl: must be at least 1s", "sources.p: set only one of every, cron and at", "line 12: sources.c.cron: invalid cron expression"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
}
