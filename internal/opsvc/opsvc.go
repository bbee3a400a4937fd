// Package opsvc is the operations service: it starts, tracks and cancels
// the bridge's long operations (replays of the archive and redrives of
// dead letters) on an operations.Manager. The API asks it to start them and does
// not run them itself (docs/architecture.md, "Layers").
package opsvc

import (
	"context"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/replay"
)

// Operation kinds, as operations.View.Kind shows them.
const (
	KindReplay  = "replay"
	KindRedrive = "redrive"
)

// RedriveCounters are the progress counters of a redrive.
var RedriveCounters = []string{"matched", "done", "failed"}

// Config is what the service runs operations with.
type Config struct {
	// Manager tracks the operations; nil: a new one.
	Manager *operations.Manager
	// Archive is read by replays.
	Archive *bus.Archive
	// Rules are the running rules replays hand events to (the
	// controller).
	Rules replay.Rules
	// DLQ is redriven by redrives.
	DLQ *deadletter.DLQ
}

// Service starts and tracks long operations. Safe for concurrent use.
type Service struct {
	*operations.Manager // Get, List, Cancel, CancelAll
	cfg                 Config
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Manager == nil {
		cfg.Manager = operations.NewManager()
	}
	return &Service{Manager: cfg.Manager, cfg: cfg}
}

// StartReplay starts replaying the archived events of [from, to) to rule
// (to one of its targets when target is set). It fails with
// operations.ErrConflict when the rule does not run here.
func (s *Service) StartReplay(rule, target string, from, to time.Time) (*operations.Op, error) {
	if s.cfg.Rules == nil || s.cfg.Archive == nil {
		return nil, operations.Conflict("replays do not run in this process")
	}
	if _, _, ok := s.cfg.Rules.Rule(rule); !ok {
		return nil, operations.Conflict(fmt.Sprintf("rule %q is not running here; see its status", rule))
	}
	req := replay.Request{Rule: rule, Target: target, From: from, To: to}
	return s.Start(KindReplay, req, replay.Counters, func(ctx context.Context, op *operations.Op) error {
		return replay.Run(ctx, s.cfg.Archive, s.cfg.Rules, req, op)
	}), nil
}

// StartRedrive starts sending rule's dead letters that match f back to
// their targets.
func (s *Service) StartRedrive(rule string, f deadletter.Filter) (*operations.Op, error) {
	if s.cfg.DLQ == nil {
		return nil, operations.Conflict("redrives do not run in this process")
	}
	params := map[string]any{"rule": rule, "filter": f}
	return s.Start(KindRedrive, params, RedriveCounters, func(ctx context.Context, op *operations.Op) error {
		_, err := s.cfg.DLQ.Redrive(ctx, rule, f, func(p deadletter.Progress) {
			op.Set("matched", int64(p.Matched))
			op.Set("done", int64(p.Done))
			op.Set("failed", int64(p.Failed))
		})
		return err
	}), nil
}
