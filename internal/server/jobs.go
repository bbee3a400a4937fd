package server

import (
	"context"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobsbus"
)

// startJobs starts the scheduler of the poll and cron sources: its state
// and leases live in the bus (KV buckets "jobs" and "leases"), leases
// are owned by the instance name, and "run now" requests reach the lease
// holder through the bus. Sources get it through the controller;
// the API reads and steers it.
func (b *Bridge) startJobs(ctx context.Context) error {
	state, leases, err := jobsbus.Open(ctx, b.bus, b.cfg.Jobs)
	if err != nil {
		return err
	}
	b.jobs = jobs.New(b.cfg.Jobs, jobs.Deps{
		Instance: b.cfg.Instance.Name, State: state, Leases: leases, Relay: b.bus,
		Log: b.logs.Logger("jobs"), Registerer: b.metrics.Registry,
	})
	if err := b.jobs.Start(ctx); err != nil {
		return err
	}
	b.health.Add("jobs", b.jobs)
	return nil
}
