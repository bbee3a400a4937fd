package jobapi

import "time"

// What the API shows of jobs and of the scheduler. They live in this leaf
// so that the API reads them without depending on the scheduler; package
// jobs re-exports them.

// Results of a run.
const (
	ResultOK    = "ok"
	ResultError = "error"
)

// RunStatus is how a run went.
type RunStatus struct {
	// Scheduled is the occurrence the run was for.
	Scheduled time.Time `json:"scheduled"`
	// Started is when it started.
	Started time.Time `json:"started"`
	// DurationMS is how long it took, in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// Result is ok or error.
	Result string `json:"result"`
	// Items is how many items (events) it emitted.
	Items int    `json:"items"`
	Error string `json:"error,omitempty"`
	// Manual is set on runs asked for through the API, CatchUp on runs of
	// missed occurrences.
	Manual  bool `json:"manual,omitempty"`
	CatchUp bool `json:"catch_up,omitempty"`
	// Attempt counts the tries of the occurrence, from 1.
	Attempt int `json:"attempt"`
	// Instance ran it.
	Instance string `json:"instance,omitempty"`
}

// Info is what the API shows of a job.
type Info struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Schedule string `json:"schedule"`
	// NextRun is the next occurrence, or the retry of a failed run if that
	// comes first. Absent when none is left (a one-off that ran).
	NextRun *time.Time `json:"next_run,omitempty"`
	// LastRun is the last run that finished, on whichever instance.
	LastRun *RunStatus `json:"last_run,omitempty"`
	// Failures counts the consecutive failed runs (on this instance).
	Failures int  `json:"failures,omitempty"`
	Paused   bool `json:"paused"`
	// Running is set while this instance runs the job.
	Running bool `json:"running"`
	// LeaseHolder is the instance that runs the job.
	LeaseHolder string `json:"lease_holder,omitempty"`
}

// SchedulerInfo is what the API shows of the scheduler on this instance.
type SchedulerInfo struct {
	Instance string `json:"instance"`
	Workers  int    `json:"workers"`
	Busy     int    `json:"busy"`
	Idle     int    `json:"idle"`
	// Queue is how many runs wait for a worker.
	Queue int `json:"queue"`
	// RunsPerMinute is how many runs finished here in the last minute.
	RunsPerMinute int `json:"runs_per_minute"`
	// LeaseTTLMS is the lease TTL in milliseconds.
	LeaseTTLMS int64 `json:"lease_ttl_ms"`
	// Jobs lists every job with the instance that holds its lease.
	Jobs []JobLease `json:"jobs"`
}

// JobLease says who runs a job.
type JobLease struct {
	Name        string `json:"name"`
	LeaseHolder string `json:"lease_holder"`
	// HeldHere is set when this instance holds the lease.
	HeldHere bool `json:"held_here"`
}
