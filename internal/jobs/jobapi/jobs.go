// Package jobapi is what sources see of the job scheduler: a Job, its
// Schedule, the Scheduler they add jobs to and the Store that keeps a job's
// state. It is a leaf (no bus, no NATS client), so the connector contract
// can name it without pulling in the scheduler's implementation; package
// jobs implements it and re-exports these names (docs/architecture.md,
// "Layers").
package jobapi

import (
	"context"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Kinds of jobs, as the API shows them.
const (
	KindPoll = "poll"
	KindCron = "cron"
)

// Job is a scheduled piece of work.
type Job struct {
	// Name is the job's name: the name of the source that runs it.
	Name string
	// Kind is KindPoll or KindCron.
	Kind string
	// Schedule says when it is due.
	Schedule Schedule
	// Immediate runs the job once as soon as it is added (on the instance
	// that holds its lease), before its first occurrence.
	Immediate bool
	// CatchUp is how many missed occurrences to run, oldest first, when
	// the job is added or taken over after a time when nobody ran it
	// (the latest CatchUp of them). 0: missed occurrences are skipped.
	CatchUp int
	// Timeout bounds one run; 0 is no bound.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the waits before retrying a failed
	// run (doubling from the first to the second). A retry never runs
	// after the next occurrence is due: that occurrence replaces it.
	// Zero: 1s and 5m.
	MinBackoff, MaxBackoff time.Duration
	// Run does the work of one run. It must return when ctx is done
	// (shutdown, removal, lost lease, timeout). An error marks the run
	// failed; a *jobs.RetryAfterError says when to try again.
	Run func(ctx context.Context, r Run) (Result, error)
}

// Schedule says when a job's occurrences are. Implementations are pure
// functions of time, so every replica computes the same occurrences.
type Schedule interface {
	// Next returns the first occurrence strictly after t, or the zero
	// time when there is none (a one-off that has passed).
	Next(t time.Time) time.Time
	// String describes the schedule for the API ("every 30s",
	// "cron */5 * * * * (UTC)", "at 2026-01-01T00:00:00Z").
	String() string
}

// Run describes one run of a job.
type Run struct {
	// Scheduled is the occurrence this run is for; for a run asked for
	// through the API, the time it was asked for. Retries of a failed run
	// keep it, so work derived from it (event ids) repeats identically.
	Scheduled time.Time
	// Manual is set on runs asked for through the API.
	Manual bool
	// CatchUp is set on runs of occurrences missed while nobody ran the job.
	CatchUp bool
	// Attempt counts the tries of this occurrence, from 1.
	Attempt int
}

// Result is what a run did.
type Result struct {
	// Items is how many items (events) the run emitted.
	Items int
}

// Scheduler is what sources see of the scheduler. Safe for concurrent use.
type Scheduler interface {
	// Add schedules j. It fails with jobs.ErrExists if a job of that name is
	// scheduled. It returns without waiting for any run.
	Add(ctx context.Context, j Job) error
	// Remove unschedules a job: a run in progress is cancelled, and
	// Remove waits for it to end (until ctx is done) and gives up the
	// job's lease. Removing an unknown job is not an error.
	Remove(ctx context.Context, name string) error
	// State returns the durable state of a job: a key/value store kept in
	// the bus, shared by every instance, that survives restarts.
	State(job string) Store
}

// Store is durable key/value state. Keys are letters, digits, '-', '_'
// and '.'. Safe for concurrent use.
type Store interface {
	// Get returns the value of key, or jobs.ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put sets the value of key.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Config is the `jobs` section of the config file.
type Config struct {
	// Workers is how many runs may be in progress at once. Default 4.
	Workers int `json:"workers,omitempty"`
	// LeaseTTL is how long a job's lease lasts without renewal: the time
	// another instance waits before taking over the jobs of one that
	// died. Leases are renewed every third of it. Default 15s.
	LeaseTTL spec.Duration `json:"lease_ttl,omitempty"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = spec.Duration(15 * time.Second)
	}
}

// Validate reports problems under p.
func (c *Config) Validate(p spec.Problems) {
	if c.Workers < 1 || c.Workers > 1024 {
		p.AddAt("workers", "must be between 1 and 1024")
	}
	if c.LeaseTTL.D() < time.Second {
		p.AddAt("lease_ttl", "must be at least 1s")
	}
}
