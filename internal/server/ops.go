package server

import (
	"context"
	"fmt"

	"github.com/eventbridge-dev/eventbridge/internal/operations"
)

// newOps returns the manager of the long operations (replays, redrives):
// their records live in the bus's bucket "operations" and each running one
// has an owner lease in the bucket "leases" with the jobs' TTL, so any
// replica reports them and one continues them when their owner is gone
// (docs/scale-out.md, "Operations and jobs across replicas").
func (b *Bridge) newOps(ctx context.Context) (*operations.Manager, error) {
	store, err := b.bus.Operations(ctx)
	if err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	leases, err := b.bus.Leases(ctx, b.cfg.Jobs.LeaseTTL.D())
	if err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	return operations.New(operations.Config{
		Store: store, Leases: leases, LeaseTTL: b.cfg.Jobs.LeaseTTL.D(),
		Instance: b.cfg.Instance.Name, Log: b.logs.Logger("operations"),
	}), nil
}
