package server

import (
	"context"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
)

// startJobs starts the scheduler of the poll and cron sources: its state
// and leases live in the bus (KV buckets "jobs" and "leases"), leases
// are owned by the instance name, and "run now" requests reach the lease
// holder over the bus connection. Sources get it through the controller;
// the API reads and steers it.
func (b *Bridge) startJobs(ctx context.Context) error {
	state, leases, err := jobs.OpenKV(ctx, b.bus.JetStream(), b.cfg.Jobs, b.cfg.Bus.Replicas)
	if err != nil {
		return err
	}
	b.jobs = jobs.New(b.cfg.Jobs, jobs.Deps{
		Instance: b.cfg.Instance.Name, State: state, Leases: leases, Conn: b.bus.Conn(),
		Log: b.logs.Logger("jobs"), Registerer: b.metrics.Registry,
	})
	if err := b.jobs.Start(ctx); err != nil {
		return err
	}
	b.health.Add("jobs", b.jobs)
	return nil
}
