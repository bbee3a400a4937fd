// Package heartbeat is an example eventbridge source written outside the
// eventbridge module: type "heartbeat" emits an event every interval,
// which rules route like any other event.
//
//	sources:
//	  pulse:
//	    type: heartbeat
//	    interval: 30s
//	    event_type: com.example.heartbeat
package heartbeat

import (
	"context"
	"fmt"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/pkg/component"
	"github.com/eventbridge-dev/eventbridge/pkg/connector"
	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Type is the name configs give in `type:`.
const Type = "heartbeat"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      Type,
		Doc:       "emits an event every interval",
		NewConfig: func() connector.Config { return &Config{} },
		New: func(name string, cfg connector.Config, deps connector.Deps) (connector.Source, error) {
			c := cfg.(*Config)
			every, err := time.ParseDuration(c.Interval) // checked by Validate
			if err != nil {
				return nil, err
			}
			return &Source{name: name, cfg: c, every: every, deps: deps}, nil
		},
	})
}

// Config is the source's spec.
type Config struct {
	connector.Common `yaml:",inline"`
	// Interval between events, a Go duration ("30s"). Default 1m.
	Interval string `json:"interval,omitempty"`
	// EventType is the events' type. Default com.example.heartbeat.
	EventType string `json:"event_type,omitempty"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Interval == "" {
		c.Interval = "1m"
	}
	if c.EventType == "" {
		c.EventType = "com.example.heartbeat"
	}
}

// Validate reports problems by field.
func (c *Config) Validate(p spec.Problems) {
	d, err := time.ParseDuration(c.Interval)
	switch {
	case err != nil:
		p.AddAt("interval", "not a duration (e.g. 30s): %v", err)
	case d < 100*time.Millisecond:
		p.AddAt("interval", "must be at least 100ms, not %s", d)
	}
}

// Source emits heartbeat events into the bridge.
type Source struct {
	component.Tracker
	name  string
	cfg   *Config
	every time.Duration
	deps  connector.Deps

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts the ticker. The events' life is bound to the source, not to
// ctx, which only bounds Start.
func (s *Source) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(ctx, s.done)
	s.Set(component.Running, nil)
	return nil
}

func (s *Source) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	boot := time.Now().UnixNano()
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			e := ce.New()
			e.SetID(fmt.Sprintf("%d-%d", boot, n))
			e.SetSource("/heartbeat/" + s.name)
			e.SetType(s.cfg.EventType)
			e.SetTime(now.UTC())
			if err := e.SetData(ce.ApplicationJSON, map[string]int{"seq": n}); err != nil {
				s.Set(component.Running, err)
				continue
			}
			// Ingest returns once the event is stored durably; a
			// heartbeat that could not be stored is simply skipped.
			if err := s.deps.Ingest.Ingest(ctx, s.name, []*ce.Event{&e}); err != nil && ctx.Err() == nil {
				s.deps.Logger.Warn("heartbeat not stored", "source", s.name, "err", err)
				s.Set(component.Running, err)
			}
		}
	}
}

// Stop stops the ticker and returns once nothing more will be ingested.
func (s *Source) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.Set(component.Terminated, nil)
	return nil
}
