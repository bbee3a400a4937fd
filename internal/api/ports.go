package api

import (
	"context"
	"reflect"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/controller/runstatus"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/eventtypes"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/state"
)

// The API asks; the components behind these interfaces do the work
// (docs/architecture.md, "Layers"). Each is what one handler group needs
// and no more; the server wires the real components, tests fakes.

// Store is the desired state (internal/desired). Its errors desired.ErrNotFound
// and desired.ErrConflict become 404 and 409/412; bus.ErrStorageFull 507.
type Store interface {
	Get(ctx context.Context, kind resource.Kind, name string) (*resource.Object, error)
	List(ctx context.Context, kind resource.Kind) ([]*resource.Object, error)
	Put(ctx context.Context, o *resource.Object, ifMatch uint64, createOnly bool) (uint64, error)
	Delete(ctx context.Context, kind resource.Kind, name string, ifMatch uint64) error
}

// Controller reports what runs (internal/controller).
type Controller interface {
	// Kick asks for a reconcile now.
	Kick()
	// AppliedRevision is the last store revision applied.
	AppliedRevision() uint64
	// Status is what the controller knows of a resource.
	Status(kind resource.Kind, name string) (runstatus.Status, bool)
}

// Operations starts, lists and cancels the long operations, replays and
// redrives (internal/opsvc), of every replica: they live in the bus. A
// start refused with operations.ErrConflict is 409; Get and Cancel of an
// unknown id fail with operations.ErrNotFound (404).
type Operations interface {
	StartReplay(ctx context.Context, rule, target string, from, to time.Time) (operations.View, error)
	StartRedrive(ctx context.Context, rule string, f deadletter.Filter) (operations.View, error)
	Get(ctx context.Context, id string) (operations.View, error)
	List(ctx context.Context, kind string) ([]operations.View, error)
	// Cancel stops the operation wherever it runs, waiting until ctx
	// ends for its owner to stop it.
	Cancel(ctx context.Context, id string) (operations.View, error)
}

// DeadLetters reads and purges dead letters (internal/deadletter);
// redrives are operations.
type DeadLetters interface {
	List(ctx context.Context, rule string, f deadletter.Filter, after uint64, limit int) ([]*deadletter.Letter, uint64, error)
	Get(ctx context.Context, rule string, id uint64) (*deadletter.Letter, error)
	Purge(ctx context.Context, rule string, f deadletter.Filter) (deadletter.Progress, error)
}

// Jobs is the scheduler of the poll and cron sources (internal/jobs).
type Jobs interface {
	List(ctx context.Context) []jobapi.Info
	Get(ctx context.Context, name string) (jobapi.Info, error)
	Stats(ctx context.Context) jobapi.SchedulerInfo
	RunNow(ctx context.Context, name string) error
	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
}

// State is the current state kept from events (internal/state).
type State interface {
	GetKey(ctx context.Context, key string) (*state.Entry, error)
	List(ctx context.Context, q state.Query) ([]state.Entry, error)
}

// EventTypes is the catalog of event types seen (internal/eventtypes).
type EventTypes interface {
	List() ([]eventtypes.EventType, int64)
}

// Oran is the O-RAN service, for imports (internal/oran).
type Oran interface {
	// ImportItems imports subscriptions and publishers as they are,
	// skipping what is there and refusing endpoints the O-RAN API would
	// refuse; nothing is stored on a dry run.
	ImportItems(ctx context.Context, items []oran.ImportItem, dryRun bool) (*oran.ImportResult, error)
}

// nilled returns v, or nil when v holds a nil pointer: the server passes
// its optional components as they are, and a nil one means "none".
func nilled[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	if rv.Kind() == reflect.Interface && !rv.IsNil() {
		if e := rv.Elem(); e.Kind() == reflect.Pointer && e.IsNil() {
			var zero T
			return zero
		}
	}
	return v
}
