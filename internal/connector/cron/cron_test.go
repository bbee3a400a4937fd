package cron_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/cron"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobstest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func ids(c *connectortest.Collector) []string {
	var out []string
	for _, e := range c.Events() {
		out = append(out, e.ID())
	}
	return out
}

func TestEveryFiveMinutes(t *testing.T) {
	clock := jobstest.NewClock(t0.Add(2 * time.Minute))
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	jobstest.StartSource(t, m, "tick", `{"type":"cron","cron":"*/5 * * * *",
		"event":{"type":"com.example.tick","source":"/ticker","subject":"report","data":{"report":"daily","n":1},"extensions":{"team":"ops"}}}`, col)
	for i := 1; i <= 3; i++ {
		jobstest.Advance(t, clock, 5*time.Minute)
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == i }, "occurrence %d", i)
	}
	want := []string{"tick-2026-03-01T10:05:00Z", "tick-2026-03-01T10:10:00Z", "tick-2026-03-01T10:15:00Z"}
	if got := ids(col); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	e := col.Events()[0]
	if e.Type() != "com.example.tick" || e.Source() != "/ticker" || e.Subject() != "report" ||
		!e.Time().Equal(t0.Add(5*time.Minute)) || e.DataContentType() != "application/json" || e.Extensions()["team"] != "ops" {
		t.Errorf("event = %s", e)
	}
	var data map[string]any
	if err := json.Unmarshal(e.Data(), &data); err != nil || data["report"] != "daily" {
		t.Errorf("data = %s (%v)", e.Data(), err)
	}
	info, err := m.Get(context.Background(), "tick")
	if err != nil || info.Kind != jobs.KindCron || info.Schedule != "cron */5 * * * * (UTC)" || info.LastRun.Items != 1 ||
		!info.NextRun.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("job = %+v, %v", info, err)
	}
}

func TestDefaultsAndTimezone(t *testing.T) {
	clock := jobstest.NewClock(time.Date(2026, 7, 1, 5, 0, 0, 0, time.UTC))
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	// 9:00 in New York is 13:00 UTC in summer.
	jobstest.StartSource(t, m, "morning", `{"type":"cron","cron":"0 9 * * *","timezone":"America/New_York"}`, col)
	jobstest.Advance(t, clock, 7*time.Hour)
	testkit.Never(t, 100*time.Millisecond, func() bool { return col.Count() > 0 }, "fired at 12:00 UTC")
	jobstest.Advance(t, clock, time.Hour)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "9:00 New York")
	e := col.Events()[0]
	if e.ID() != "morning-2026-07-01T13:00:00Z" || e.Type() != "dev.eventbridge.cron" || e.Source() != "/eventbridge/cron/morning" || len(e.Data()) != 0 {
		t.Errorf("event = %s", e)
	}
}

func TestRateBelowASecondHasDistinctIDs(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	jobstest.StartSource(t, m, "fast", `{"type":"cron","every":"250ms"}`, col)
	for i := 1; i <= 4; i++ {
		jobstest.Advance(t, clock, 250*time.Millisecond)
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == i }, "tick %d", i)
	}
	if col.Distinct() != 4 {
		t.Errorf("ids = %v", ids(col))
	}
	if got := ids(col)[0]; got != "fast-2026-03-01T10:00:00.25Z" {
		t.Errorf("id = %s", got)
	}
}

func TestRetriedOccurrenceKeepsItsID(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	col.Fail(1) // the bus is down for the first try
	jobstest.StartSource(t, m, "tick", `{"type":"cron","every":"1h"}`, col)
	jobstest.Advance(t, clock, time.Hour)
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "tick")
		return info.LastRun != nil && info.LastRun.Result == jobs.ResultError
	}, "the first try fails")
	jobstest.Advance(t, clock, time.Second) // the first retry
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "the retry stores it")
	if got := ids(col)[0]; got != "tick-2026-03-01T11:00:00Z" {
		t.Errorf("the retry's id is %s", got)
	}
}

// TestCatchUpAfterDowntime keeps the last run in the bus, stops the
// bridge's bus, and opens it again later.
func TestCatchUpAfterDowntime(t *testing.T) {
	dir := t.TempDir()
	clock := jobstest.NewClock(t0.Add(30 * time.Second))
	cfgJSON := `{"type":"cron","every":"1m","catch_up":true,"max_catch_up":3,"event":{"type":"com.example.tick"}}`
	col := connectortest.NewCollector()

	life := func(advance func(*jobstest.Clock)) {
		b, state := jobstest.OpenStore(t, dir)
		defer b.Close()
		m, stopM := jobstest.StartManager(t, clock, state)
		_, stopS := jobstest.StartSource(t, m, "tick", cfgJSON, col)
		advance(clock)
		stopS()
		stopM()
	}
	life(func(c *jobstest.Clock) {
		jobstest.Advance(t, c, time.Minute) // 10:01
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "10:01")
	})
	// Down from 10:01:30 to 10:10:30; back up, the latest 3 missed
	// minutes are emitted, then the schedule goes on.
	clock.Set(t0.Add(10*time.Minute + 30*time.Second))
	life(func(c *jobstest.Clock) {
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 4 }, "three missed minutes")
		jobstest.Advance(t, c, time.Minute)
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 5 }, "10:11")
	})
	want := "tick-2026-03-01T10:01:00Z tick-2026-03-01T10:08:00Z tick-2026-03-01T10:09:00Z tick-2026-03-01T10:10:00Z tick-2026-03-01T10:11:00Z"
	if got := strings.Join(ids(col), " "); got != want {
		t.Errorf("ids:\n got %s\nwant %s", got, want)
	}
	// A source without catch_up skips what it missed.
	clock.Set(t0.Add(30 * time.Minute))
	cfgJSON = `{"type":"cron","every":"1m","event":{"type":"com.example.tick"}}`
	life(func(c *jobstest.Clock) {
		jobstest.Advance(t, c, time.Minute)
		testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 6 }, "10:31")
	})
	if got := ids(col)[5]; got != "tick-2026-03-01T10:31:00Z" {
		t.Errorf("without catch_up: %s", got)
	}
}

func TestAtOnce(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	jobstest.StartSource(t, m, "launch", `{"type":"cron","at":"2026-03-01T12:00:00Z","event":{"type":"com.example.launch"}}`, col)
	jobstest.Advance(t, clock, 3*time.Hour)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "at 12:00")
	if got := ids(col)[0]; got != "launch-2026-03-01T12:00:00Z" {
		t.Errorf("id = %s", got)
	}
	clock.Advance(24 * time.Hour)
	testkit.Never(t, 100*time.Millisecond, func() bool { return col.Count() > 1 }, "a one-off ran twice")
	info, _ := m.Get(context.Background(), "launch")
	if info.NextRun != nil {
		t.Errorf("next run %v after a one-off", info.NextRun)
	}
}

func TestRunNowIsManual(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := connectortest.NewCollector()
	jobstest.StartSource(t, m, "tick", `{"type":"cron","cron":"@daily"}`, col)
	if err := m.RunNow(context.Background(), "tick"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "run now")
	if got := ids(col)[0]; got != "tick-manual-2026-03-01T10:00:00Z" {
		t.Errorf("id = %s", got)
	}
}

func TestConfig(t *testing.T) {
	connectortest.WantSourceConfigs(t, map[string]string{
		`{"type":"cron","every":"10s"}`:                                    "",
		`{"type":"cron","at":"2030-01-01T00:00:00+02:00","catch_up":true}`: "",
		`{"type":"cron"}`:                                                      "required: one of every, cron or at",
		`{"type":"cron","cron":"* * *"}`:                                       "spec.cron: invalid cron expression",
		`{"type":"cron","every":"1m","max_catch_up":5000}`:                     "spec.max_catch_up",
		`{"type":"cron","every":"1m","event":{"extensions":{"Bad-Name":"x"}}}`: "spec.event.extensions.Bad-Name",
		`{"type":"cron","every":"1m","event":{"extensions":{"subject":"x"}}}`:  "is a context attribute",
		`{"type":"cron","every":"1m","event":{"source":"%zz"}}`:                "spec.event",
		`{"type":"cron","every":"1m","nope":1}`:                                "unknown field",
	})
}
