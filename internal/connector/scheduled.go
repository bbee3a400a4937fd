package connector

import (
	"context"
	"fmt"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
)

// StartJob is the Start of a source that runs as a scheduled job (poll,
// cron): it adds j to the scheduler, tracking the source in tr (Starting,
// then Running with the detail schedule, or Failed).
func StartJob(ctx context.Context, tr *component.Tracker, sched jobapi.Scheduler, j jobapi.Job) error {
	tr.Set(component.Starting, nil)
	if sched == nil {
		err := fmt.Errorf("source %s: no job scheduler", j.Name)
		tr.Set(component.Failed, err)
		return err
	}
	if err := sched.Add(ctx, j); err != nil {
		tr.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", j.Name, err)
	}
	tr.SetDetail("schedule", j.Schedule.String())
	tr.Set(component.Running, nil)
	return nil
}

// StopJob is the Stop of such a source: it removes the job named name (a
// run in progress is cancelled), tracking Stopping then Terminated.
func StopJob(ctx context.Context, tr *component.Tracker, sched jobapi.Scheduler, name string) error {
	tr.Set(component.Stopping, nil)
	var err error
	if sched != nil {
		err = sched.Remove(ctx, name)
	}
	tr.Set(component.Terminated, nil)
	return err
}
