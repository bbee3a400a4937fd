package jobs

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // timezones work in a static binary on a bare image

	"github.com/robfig/cron/v3"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Timing is how a source says when its job runs: exactly one of Every,
// Cron or (where the source allows it) At. Sources embed it with
// `yaml:",inline"`.
type Timing struct {
	// Every runs the job at a fixed rate. Occurrences are multiples of
	// the interval since the Unix epoch (every: 1h runs on the hour), so
	// that every replica agrees on them.
	Every spec.Duration `json:"every,omitempty"`
	// Cron is a standard five-field cron expression ("*/5 * * * *") or
	// a descriptor (@hourly, @daily, @weekly, @monthly, @yearly).
	Cron string `json:"cron,omitempty"`
	// Timezone is the IANA zone Cron is read in. Default UTC.
	Timezone string `json:"timezone,omitempty"`
	// At runs the job once, at this RFC 3339 time.
	At string `json:"at,omitempty"`
}

// MinEvery is the shortest rate a job may have.
const MinEvery = 100 * time.Millisecond

// Validate reports problems under p. allowAt says whether the source
// accepts one-off schedules.
func (t *Timing) Validate(p spec.Problems, allowAt bool) {
	set := 0
	for _, s := range []bool{t.Every != 0, t.Cron != "", t.At != ""} {
		if s {
			set++
		}
	}
	switch {
	case set == 0 && allowAt:
		p.Add("required: one of every, cron or at")
		return
	case set == 0:
		p.Add("required: every or cron")
		return
	case set > 1:
		p.Add("set only one of every, cron and at")
		return
	}
	if t.At != "" && !allowAt {
		p.AddAt("at", "this source runs repeatedly: use every or cron")
		return
	}
	if t.Timezone != "" && t.Cron == "" {
		p.AddAt("timezone", "only applies to cron")
	}
	if _, err := t.Schedule(); err != nil {
		field := "every"
		switch {
		case t.Cron != "":
			field = "cron"
			if strings.HasPrefix(err.Error(), "unknown timezone") {
				field = "timezone"
			}
		case t.At != "":
			field = "at"
		}
		p.AddAt(field, "%v", err)
	}
}

// Schedule builds the schedule. Validate reports the same errors.
func (t *Timing) Schedule() (Schedule, error) {
	switch {
	case t.Every != 0:
		if t.Every.D() < MinEvery {
			return nil, fmt.Errorf("must be at least %s", MinEvery)
		}
		return Every(t.Every.D()), nil
	case t.Cron != "":
		return ParseCron(t.Cron, t.Timezone)
	case t.At != "":
		at, err := time.Parse(time.RFC3339, t.At)
		if err != nil {
			return nil, fmt.Errorf("not an RFC 3339 time (2026-01-02T15:04:05Z): %v", err)
		}
		return At(at), nil
	}
	return nil, fmt.Errorf("no schedule: set every, cron or at")
}

// Every returns a schedule of occurrences at multiples of d since the Unix
// epoch.
func Every(d time.Duration) Schedule { return every(d) }

type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	epoch := t.Sub(time.Unix(0, 0))
	return time.Unix(0, 0).Add((epoch/d + 1) * d).In(t.Location())
}

func (e every) String() string { return "every " + time.Duration(e).String() }

// At returns a schedule with one occurrence.
func At(at time.Time) Schedule { return once(at) }

type once time.Time

func (o once) Next(t time.Time) time.Time {
	if t.Before(time.Time(o)) {
		return time.Time(o)
	}
	return time.Time{}
}

func (o once) String() string { return "at " + time.Time(o).UTC().Format(time.RFC3339) }

// ParseCron reads a five-field cron expression or a descriptor, in the
// IANA timezone tz ("" is UTC).
func ParseCron(expr, tz string) (Schedule, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("set the zone with timezone, not in the expression")
	}
	if strings.HasPrefix(expr, "@every") {
		return nil, fmt.Errorf("use every: instead of @every")
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("unknown timezone %q: use an IANA name such as Europe/Berlin", tz)
		}
		loc = l
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v", expr, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported cron expression %q", expr)
	}
	spec.Location = loc
	return &cronSchedule{spec: spec, expr: expr}, nil
}

type cronSchedule struct {
	spec *cron.SpecSchedule
	expr string
}

func (c *cronSchedule) Next(t time.Time) time.Time {
	n := c.spec.Next(t)
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

func (c *cronSchedule) String() string {
	return fmt.Sprintf("cron %s (%s)", c.expr, c.spec.Location)
}

// maxScan bounds the occurrences Missed looks at (a year of minutes).
const maxScan = 600_000

// Missed returns the occurrences of s after last and at or before now,
// the latest max of them, oldest first.
func Missed(s Schedule, last, now time.Time, max int) []time.Time {
	if max <= 0 || last.IsZero() {
		return nil
	}
	if e, ok := s.(every); ok {
		// Skip the occurrences that would be dropped anyway.
		if from := now.Add(-time.Duration(max+1) * time.Duration(e)); from.After(last) {
			last = from
		}
	}
	var out []time.Time
	for t, n := s.Next(last), 0; !t.IsZero() && !t.After(now) && n < maxScan; t, n = s.Next(t), n+1 {
		out = append(out, t)
		if len(out) > max {
			out = out[1:]
		}
	}
	return out
}
