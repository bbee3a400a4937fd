// Package cron is the cron source: it emits a configured event on a cron
// expression, at a fixed rate, or once at a given time, like Knative's
// PingSource and Amazon EventBridge Scheduler. Each occurrence's event has
// an id made of the source name and the scheduled time, so that an
// occurrence run twice (by two replicas, or retried) is stored once.
package cron

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// DefaultType is the type of the events when event.type is not set.
const DefaultType = "dev.eventbridge.cron"

// Config configures a cron source.
type Config struct {
	connector.Common `yaml:",inline"`
	// Timing is every, cron (with timezone) or at.
	jobs.Timing `yaml:",inline"`
	// Event is what each occurrence emits.
	Event Event `json:"event,omitempty"`
	// CatchUp emits the occurrences missed while no instance ran the
	// source (the bridge was down), at most MaxCatchUp of them: the
	// latest ones, oldest first.
	CatchUp bool `json:"catch_up,omitempty"`
	// MaxCatchUp bounds catching up. Default 10.
	MaxCatchUp int `json:"max_catch_up,omitempty"`
}

// Event is the event a cron source emits.
type Event struct {
	// Type is the event type. Default dev.eventbridge.cron.
	Type string `json:"type,omitempty"`
	// Source is the event source. Default /eventbridge/cron/<source name>.
	Source string `json:"source,omitempty"`
	// Subject is the optional event subject.
	Subject string `json:"subject,omitempty"`
	// Data is any JSON value, sent as application/json. None: no data.
	Data any `json:"data,omitempty"`
	// Extensions are extension attributes (lower-case names).
	Extensions map[string]string `json:"extensions,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	if c.Event.Type == "" {
		c.Event.Type = DefaultType
	}
	if c.MaxCatchUp == 0 {
		c.MaxCatchUp = 10
	}
}

var extName = regexp.MustCompile(`^[a-z0-9]{1,20}$`)

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Timing.Validate(p, true)
	if c.MaxCatchUp < 1 || c.MaxCatchUp > 1000 {
		p.AddAt("max_catch_up", "must be between 1 and 1000")
	}
	if c.Event.Data != nil {
		if _, err := json.Marshal(c.Event.Data); err != nil {
			p.AddAt("event.data", "not JSON: %v", err)
		}
	}
	for name := range c.Event.Extensions {
		if !extName.MatchString(name) {
			p.AddAt("event.extensions."+name, "extension names are 1 to 20 lower-case letters or digits")
		}
		switch name {
		case "id", "source", "type", "subject", "time", "specversion", "datacontenttype", "dataschema", "data", "data_base64":
			p.AddAt("event.extensions."+name, "is a context attribute, not an extension")
		}
	}
	e := ce.New()
	e.SetID("x")
	e.SetType(c.Event.Type)
	e.SetSource(c.Event.Source)
	if c.Event.Source == "" {
		e.SetSource("/eventbridge/cron/x")
	}
	if err := e.Validate(); err != nil {
		p.AddAt("event", "%v", err)
	}
}

// Source emits events on a schedule.
type Source struct {
	connector.JobSource
	cfg    *Config
	data   []byte
	source string
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*Config)
	s := &Source{cfg: cfg, source: cfg.Event.Source}
	if err := s.Init(name, deps, cfg); err != nil {
		return nil, err
	}
	if s.source == "" {
		s.source = "/eventbridge/cron/" + name
	}
	if cfg.Event.Data != nil {
		var err error
		if s.data, err = json.Marshal(cfg.Event.Data); err != nil {
			return nil, fmt.Errorf("source %s: event.data: %w", name, err)
		}
	}
	s.Set(component.New, nil)
	return s, nil
}

// Start schedules the source's job.
func (s *Source) Start(ctx context.Context) error {
	catchUp := 0
	if s.cfg.CatchUp {
		catchUp = s.cfg.MaxCatchUp
	}
	return s.StartJob(ctx, jobs.Job{
		Kind: jobs.KindCron, CatchUp: catchUp,
		Timeout: 30 * time.Second, Run: s.run,
	})
}

// Stop unschedules the job; an occurrence being stored is cancelled.
func (s *Source) Stop(ctx context.Context) error {
	return s.StopJob(ctx)
}

func (s *Source) run(ctx context.Context, r jobs.Run) (jobs.Result, error) {
	e := s.Event(r)
	if s.Deps.Metrics != nil {
		s.Deps.Metrics.Received.WithLabelValues(s.Name).Inc()
	}
	if err := s.Deps.Ingest.Ingest(ctx, s.Name, []*ce.Event{e}); err != nil {
		return jobs.Result{}, fmt.Errorf("store the event of %s: %w", r.Scheduled.UTC().Format(time.RFC3339), err)
	}
	return jobs.Result{Items: 1}, nil
}

// Event builds the event of a run. Its id is "<source name>-<scheduled
// time>" (RFC 3339, UTC, fractions of a second only when there are some),
// or "<source name>-manual-<time>" for runs asked for through the API.
func (s *Source) Event(r jobs.Run) *ce.Event {
	at := r.Scheduled.UTC()
	e := ce.New()
	if r.Manual {
		e.SetID(s.Name + "-manual-" + at.Format(time.RFC3339Nano))
	} else {
		e.SetID(s.Name + "-" + at.Format(time.RFC3339Nano))
	}
	e.SetType(s.cfg.Event.Type)
	e.SetSource(s.source)
	e.SetTime(at)
	if s.cfg.Event.Subject != "" {
		e.SetSubject(s.cfg.Event.Subject)
	}
	for k, v := range s.cfg.Event.Extensions {
		e.SetExtension(k, v)
	}
	if s.data != nil {
		ebevent.SetData(&e, "application/json", s.data)
	}
	return &e
}

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "cron",
		Doc:       "emits an event on a cron expression, at a fixed rate, or once at a given time",
		NewConfig: func() connector.Config { return &Config{} },
		New:       newSource,
	})
}

var (
	_ connector.Source = (*Source)(nil)
	_ connector.Config = (*Config)(nil)
)
