package connector

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
)

// JobSource is the base of a source that runs as a scheduled job (poll,
// cron): its name, deps, logger and schedule, and its state.
type JobSource struct {
	Name string
	Deps Deps
	Log  *slog.Logger
	component.Tracker
	schedule jobapi.Schedule
}

// Init sets up source name, due when timing (its config) says.
func (s *JobSource) Init(name string, deps Deps, timing interface {
	Schedule() (jobapi.Schedule, error)
}) error {
	sched, err := timing.Schedule()
	if err != nil {
		return fmt.Errorf("source %s: %w", name, err)
	}
	s.Name, s.Deps, s.Log, s.schedule = name, deps, deps.Log(), sched
	return nil
}

// StartJob is the Start of the source: it adds j, named after the source
// and due on its schedule, to the scheduler (Starting, then Running with
// the detail schedule, or Failed).
func (s *JobSource) StartJob(ctx context.Context, j jobapi.Job) error {
	j.Name, j.Schedule = s.Name, s.schedule
	s.Set(component.Starting, nil)
	if s.Deps.Jobs == nil {
		err := fmt.Errorf("source %s: no job scheduler", j.Name)
		s.Set(component.Failed, err)
		return err
	}
	if err := s.Deps.Jobs.Add(ctx, j); err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", j.Name, err)
	}
	s.SetDetail("schedule", j.Schedule.String())
	s.Set(component.Running, nil)
	return nil
}

// StopJob is the Stop of the source: it removes its job (a run in
// progress is cancelled), tracking Stopping then Terminated.
func (s *JobSource) StopJob(ctx context.Context) error {
	s.Set(component.Stopping, nil)
	var err error
	if s.Deps.Jobs != nil {
		err = s.Deps.Jobs.Remove(ctx, s.Name)
	}
	s.Set(component.Terminated, nil)
	return err
}
