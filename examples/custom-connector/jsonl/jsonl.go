// Package jsonl is an example eventbridge target written outside the
// eventbridge module: type "jsonl" appends every event it is sent to a
// file, as one JSON line (the CloudEvents JSON format).
//
//	targets:
//	  archive:
//	    type: jsonl
//	    path: events.jsonl
package jsonl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/pkg/component"
	"github.com/eventbridge-dev/eventbridge/pkg/connector"
	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Type is the name configs give in `type:`.
const Type = "jsonl"

func init() {
	connector.RegisterTarget(connector.TargetType{
		Name:      Type,
		Doc:       "appends every event to a file, one JSON line each",
		NewConfig: func() connector.Config { return &Config{} },
		New: func(name string, cfg connector.Config, deps connector.Deps) (connector.Target, error) {
			return New(name, cfg.(*Config)), nil
		},
	})
}

// Config is the target's spec. Embedding connector.Common (inline) gives it the
// fields every connector has (type, description, labels...).
type Config struct {
	connector.Common `yaml:",inline"`
	// Path is the file to append to; it is created if missing.
	Path string `json:"path"`
	// Mode is the permission bits of a file it creates. Default 0640.
	Mode os.FileMode `json:"mode,omitempty"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Mode == 0 {
		c.Mode = 0o640
	}
}

// Validate reports problems by field: the bridge shows them with the
// resource's path and the config file's line.
func (c *Config) Validate(p spec.Problems) {
	if c.Path == "" {
		p.AddAt("path", "required: the file to append events to")
	}
	if c.Mode&^os.ModePerm != 0 {
		p.AddAt("mode", "must be permission bits (0 to 0777), not %#o", uint32(c.Mode))
	}
}

// Target appends events to a file.
type Target struct {
	// Tracker gives Health; Set records the state as it changes.
	component.Tracker
	name string
	cfg  *Config

	mu sync.Mutex
	f  *os.File
}

// New returns a target that is not started yet.
func New(name string, cfg *Config) *Target {
	t := &Target{name: name, cfg: cfg}
	t.Set(component.New, nil)
	return t
}

// Start opens the file.
func (t *Target) Start(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := os.OpenFile(t.cfg.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, t.cfg.Mode)
	if err != nil {
		err = fmt.Errorf("jsonl target %s: %w", t.name, err)
		t.Set(component.Failed, err)
		return err
	}
	t.f = f
	t.Set(component.Running, nil)
	return nil
}

// Stop closes the file.
func (t *Target) Stop(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	if t.f != nil {
		err = t.f.Close()
		t.f = nil
	}
	t.Set(component.Terminated, err)
	return err
}

// Send appends e. An event that cannot be encoded is a permanent failure
// (it goes to the dead-letter queue); a failed write is retried.
func (t *Target) Send(_ context.Context, e *ce.Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return connector.Permanent(fmt.Errorf("encode event: %w", err))
	}
	line = append(line, '\n')
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return connector.ErrNotConnected
	}
	if _, err := t.f.Write(line); err != nil {
		t.Set(component.Running, err) // still running; the error shows in /readyz
		return fmt.Errorf("write %s: %w", t.cfg.Path, err)
	}
	return nil
}
