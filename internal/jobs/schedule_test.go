package jobs

import (
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestScheduleNext(t *testing.T) {
	cases := []struct {
		name   string
		timing Timing
		after  string
		want   []string // the next occurrences, in order; "" = none
		desc   string
	}{
		{"every is aligned to the epoch", Timing{Every: spec.Duration(time.Hour)}, "2026-03-01T10:20:00Z",
			[]string{"2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"}, "every 1h0m0s"},
		{"every 30s", Timing{Every: spec.Duration(30 * time.Second)}, "2026-03-01T10:20:00Z",
			[]string{"2026-03-01T10:20:30Z", "2026-03-01T10:21:00Z"}, "every 30s"},
		{"every from an occurrence is the next one", Timing{Every: spec.Duration(5 * time.Minute)}, "2026-03-01T10:25:00Z",
			[]string{"2026-03-01T10:30:00Z"}, "every 5m0s"},
		{"cron every 5 minutes", Timing{Cron: "*/5 * * * *"}, "2026-03-01T10:21:13Z",
			[]string{"2026-03-01T10:25:00Z", "2026-03-01T10:30:00Z"}, "cron */5 * * * * (UTC)"},
		{"cron in a timezone", Timing{Cron: "0 9 * * *", Timezone: "Europe/Berlin"}, "2026-01-10T00:00:00Z",
			[]string{"2026-01-10T08:00:00Z", "2026-01-11T08:00:00Z"}, "cron 0 9 * * * (Europe/Berlin)"},
		{"cron across a DST change", Timing{Cron: "0 9 * * *", Timezone: "Europe/Berlin"}, "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T07:00:00Z"}, "cron 0 9 * * * (Europe/Berlin)"},
		{"descriptor", Timing{Cron: "@daily"}, "2026-03-01T10:00:00Z",
			[]string{"2026-03-02T00:00:00Z"}, "cron @daily (UTC)"},
		{"at, before", Timing{At: "2026-03-01T12:00:00Z"}, "2026-03-01T10:00:00Z",
			[]string{"2026-03-01T12:00:00Z", ""}, "at 2026-03-01T12:00:00Z"},
		{"at, after", Timing{At: "2026-03-01T12:00:00Z"}, "2026-03-01T12:00:00Z",
			[]string{""}, "at 2026-03-01T12:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.timing.Schedule()
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != c.desc {
				t.Errorf("String() = %q, want %q", s.String(), c.desc)
			}
			at := mustTime(t, c.after)
			for i, w := range c.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("next %d = %s, want none", i, got)
					}
					return
				}
				if !got.Equal(mustTime(t, w)) {
					t.Fatalf("next %d after %s = %s, want %s", i, at, got.UTC().Format(time.RFC3339), w)
				}
				at = got
			}
		})
	}
}

func TestTimingValidate(t *testing.T) {
	cases := []struct {
		timing  Timing
		allowAt bool
		want    string // a substring of the problems; "" = valid
	}{
		{Timing{Every: spec.Duration(time.Second)}, false, ""},
		{Timing{Cron: "*/5 * * * *", Timezone: "America/New_York"}, false, ""},
		{Timing{At: "2026-01-01T00:00:00Z"}, true, ""},
		{Timing{}, false, "required: every or cron"},
		{Timing{}, true, "required: one of every, cron or at"},
		{Timing{Every: spec.Duration(time.Second), Cron: "* * * * *"}, false, "set only one"},
		{Timing{At: "2026-01-01T00:00:00Z"}, false, "at: this source runs repeatedly"},
		{Timing{Every: spec.Duration(time.Millisecond)}, false, "every: must be at least 100ms"},
		{Timing{Cron: "*/5 * * *"}, false, "cron: invalid cron expression"},
		{Timing{Cron: "61 * * * *"}, false, "cron: invalid cron expression"},
		{Timing{Cron: "@every 5m"}, false, "cron: use every:"},
		{Timing{Cron: "CRON_TZ=UTC * * * * *"}, false, "cron: set the zone with timezone"},
		{Timing{Cron: "* * * * *", Timezone: "Mars/Olympus"}, false, "timezone: unknown timezone"},
		{Timing{Every: spec.Duration(time.Minute), Timezone: "UTC"}, false, "timezone: only applies to cron"},
		{Timing{At: "tomorrow"}, true, "at: not an RFC 3339 time"},
	}
	for _, c := range cases {
		p := spec.NewProblems("")
		c.timing.Validate(p, c.allowAt)
		got := ""
		if err := p.Err(); err != nil {
			got = err.Error()
		}
		switch {
		case c.want == "" && got != "":
			t.Errorf("%+v: unexpected problems: %s", c.timing, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%+v: problems %q, want one containing %q", c.timing, got, c.want)
		}
	}
}

func TestMissed(t *testing.T) {
	s := Every(time.Minute)
	last := mustTime(t, "2026-03-01T10:00:00Z")
	now := mustTime(t, "2026-03-01T10:10:30Z")
	got := Missed(s, last, now, 3)
	want := []string{"2026-03-01T10:08:00Z", "2026-03-01T10:09:00Z", "2026-03-01T10:10:00Z"}
	if len(got) != len(want) {
		t.Fatalf("missed = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(mustTime(t, want[i])) {
			t.Errorf("missed[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if m := Missed(s, last, now, 0); m != nil {
		t.Errorf("max 0: %v", m)
	}
	if m := Missed(s, time.Time{}, now, 5); m != nil {
		t.Errorf("no last run: %v", m)
	}
	if m := Missed(s, now, now, 5); len(m) != 0 {
		t.Errorf("nothing missed: %v", m)
	}
	c, _ := ParseCron("*/5 * * * *", "")
	if m := Missed(c, last, now, 10); len(m) != 2 {
		t.Errorf("cron missed = %v, want 10:05 and 10:10", m)
	}
	// Years of downtime at a fine rate stay cheap and keep the latest.
	fine := Every(100 * time.Millisecond)
	m := Missed(fine, last.AddDate(-3, 0, 0), now, 2)
	if len(m) != 2 || !m[1].Equal(now) {
		t.Errorf("fine rate missed = %v", m)
	}
}
