// Package opsvc is the operations service: it starts, tracks and cancels
// the bridge's long operations (replays of the archive and redrives of
// dead letters) on an operations.Manager, and tells the manager how to run
// each kind, so that a replica can continue one another replica started.
// The API asks it to start them and does not run them itself
// (docs/architecture.md, "Layers").
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
	// Manager tracks the operations; nil: a new one in memory. The
	// service registers the kinds replay and redrive on it.
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
	*operations.Manager // Get, List, Cancel
	cfg                 Config
}

// RedriveParams are the parameters of a redrive.
type RedriveParams struct {
	Rule   string            `json:"rule"`
	Filter deadletter.Filter `json:"filter"`
}

// New returns the service, with its kinds registered on the manager.
func New(cfg Config) *Service {
	if cfg.Manager == nil {
		cfg.Manager = operations.NewManager()
	}
	s := &Service{Manager: cfg.Manager, cfg: cfg}
	cfg.Manager.Register(KindReplay, replay.Counters, s.runReplay)
	cfg.Manager.Register(KindRedrive, RedriveCounters, s.runRedrive)
	return s
}

// StartReplay starts replaying the archived events of [from, to) to rule
// (to one of its targets when target is set). It fails with
// operations.ErrConflict when the rule does not run here.
func (s *Service) StartReplay(ctx context.Context, rule, target string, from, to time.Time) (operations.View, error) {
	if s.cfg.Rules == nil || s.cfg.Archive == nil {
		return operations.View{}, operations.Conflict("replays do not run in this process")
	}
	if _, _, ok := s.cfg.Rules.Rule(rule); !ok {
		return operations.View{}, operations.Conflict(fmt.Sprintf("rule %q is not running here; see its status", rule))
	}
	return s.Launch(ctx, KindReplay, replay.Request{Rule: rule, Target: target, From: from, To: to})
}

func (s *Service) runReplay(ctx context.Context, op *operations.Op) error {
	if s.cfg.Rules == nil || s.cfg.Archive == nil {
		return operations.Conflict("replays do not run in this process")
	}
	var req replay.Request
	if err := op.Params(&req); err != nil {
		return err
	}
	return replay.Run(ctx, s.cfg.Archive, s.cfg.Rules, req, op)
}

// StartRedrive starts sending rule's dead letters that match f back to
// their targets.
func (s *Service) StartRedrive(ctx context.Context, rule string, f deadletter.Filter) (operations.View, error) {
	if s.cfg.DLQ == nil {
		return operations.View{}, operations.Conflict("redrives do not run in this process")
	}
	return s.Launch(ctx, KindRedrive, RedriveParams{Rule: rule, Filter: f})
}

// runRedrive walks the DLQ from the checkpoint (the sequence after the
// last letter done) to the bound fixed by the first run; counts continue
// from those of the runs before.
func (s *Service) runRedrive(ctx context.Context, op *operations.Op) error {
	if s.cfg.DLQ == nil {
		return operations.Conflict("redrives do not run in this process")
	}
	var p RedriveParams
	if err := op.Params(&p); err != nil {
		return err
	}
	base := map[string]int64{}
	for _, c := range RedriveCounters {
		base[c] = op.Counter(c)
	}
	_, err := s.cfg.DLQ.RedriveSpan(ctx, p.Rule, p.Filter, deadletter.Span{From: op.Resume(), Last: op.Bound()}, func(pr deadletter.Progress) {
		op.SetBound(pr.Last)
		op.Set("matched", base["matched"]+int64(pr.Matched))
		op.Set("done", base["done"]+int64(pr.Done))
		op.Set("failed", base["failed"]+int64(pr.Failed))
		op.SetCheckpoint(pr.Next)
	})
	return err
}
