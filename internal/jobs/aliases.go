package jobs

import "github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"

// The scheduler's contract lives in the leaf package jobapi (so that the
// connector contract, and the resource specs that read it, do not depend
// on the bus); these names keep package jobs the one to use.
type (
	Job       = jobapi.Job
	Schedule  = jobapi.Schedule
	Run       = jobapi.Run
	Result    = jobapi.Result
	Scheduler = jobapi.Scheduler
	Store     = jobapi.Store
	Config    = jobapi.Config

	// What the API shows.
	Info          = jobapi.Info
	RunStatus     = jobapi.RunStatus
	SchedulerInfo = jobapi.SchedulerInfo
	JobLease      = jobapi.JobLease
)

// Results of a run.
const (
	ResultOK    = jobapi.ResultOK
	ResultError = jobapi.ResultError
)

// Kinds of jobs, as the API shows them.
const (
	KindPoll = jobapi.KindPoll
	KindCron = jobapi.KindCron
)
