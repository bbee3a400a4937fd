// Package log is the log target: it writes each event as one line of JSON
// (the CloudEvents JSON format) to stdout or a file.
package log

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Config configures a log target.
type Config struct {
	connector.Common `yaml:",inline"`
	// File is appended to; empty means standard output.
	File string `json:"file,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {}

// Validate implements connector.Config.
func (c *Config) Validate(spec.Problems) {}

// Target writes events as JSON lines.
type Target struct {
	cfg *Config

	mu sync.Mutex
	w  *bufio.Writer
	f  *os.File // nil for stdout
	component.Tracker
}

// Stdout is where a target without a file writes; tests replace it.
var Stdout io.Writer = os.Stdout

func newTarget(_ string, c connector.Config, _ connector.Deps) (connector.Target, error) {
	t := &Target{cfg: c.(*Config)}
	t.Set(component.New, nil)
	return t, nil
}

// Start opens the file.
func (t *Target) Start(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.File == "" {
		t.w = bufio.NewWriter(Stdout)
	} else {
		f, err := os.OpenFile(t.cfg.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			t.Set(component.Failed, err)
			return fmt.Errorf("log target: %w", err)
		}
		t.f, t.w = f, bufio.NewWriter(f)
	}
	t.Set(component.Running, nil)
	return nil
}

// Stop flushes and closes.
func (t *Target) Stop(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	if t.w != nil {
		err = t.w.Flush()
	}
	if t.f != nil {
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
		t.f = nil
	}
	t.w = nil
	t.Set(component.Terminated, err)
	return err
}

// Send writes the event and flushes, so that a delivered event is written.
func (t *Target) Send(_ context.Context, e *ce.Event) error {
	b, err := e.MarshalJSON()
	if err != nil {
		return connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return connector.ErrNotConnected
	}
	_, _ = t.w.Write(b)
	_ = t.w.WriteByte('\n')
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("log target: %w", err)
	}
	return nil
}

func init() {
	connector.RegisterTarget(connector.TargetType{
		Name:      "log",
		Doc:       "writes each event as a JSON line to stdout or a file",
		NewConfig: func() connector.Config { return &Config{} },
		New:       newTarget,
	})
}

var (
	_ connector.Target = (*Target)(nil)
	_ connector.Config = (*Config)(nil)
)
