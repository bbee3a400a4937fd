package operations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// Store keeps the operation records; *bus.Operations is the one of the
// bridge. Writes are compare-and-set on OpRecord.Revision: Update fails
// with bus.ErrRevisionMismatch when the record changed since it was read,
// Get with bus.ErrKeyNotFound when there is none.
type Store interface {
	Create(ctx context.Context, rec *bus.OpRecord) error
	Get(ctx context.Context, id string) (bus.OpRecord, error)
	Update(ctx context.Context, rec *bus.OpRecord) error
	Delete(ctx context.Context, rec bus.OpRecord) error
	List(ctx context.Context) ([]bus.OpRecord, error)
}

// Leaser hands out the owners' leases; *bus.Leases is the one of the
// bridge. A lease not renewed within its TTL expires.
type Leaser interface {
	// Acquire takes or renews key for owner; an error means the outcome
	// is unknown (treat the lease as lost).
	Acquire(ctx context.Context, key, owner string) (held bool, holder string, err error)
	Release(ctx context.Context, key, owner string) error
	Holder(ctx context.Context, key string) (string, error)
}

// Config is what a Manager works with.
type Config struct {
	// Store keeps the records; nil: in memory (one process, tests).
	Store Store
	// Leases, when set, give each running operation an owner, and let
	// this instance take over operations whose owner is gone. nil: no
	// takeover (one process).
	Leases Leaser
	// LeaseTTL is the leases' TTL (jobs.lease_ttl): an operation whose
	// owner died is taken over within about LeaseTTL + LeaseTTL/3.
	LeaseTTL time.Duration
	// Instance names this process, the owner of its operations.
	Instance string
	// CheckpointEvery and CheckpointEvents: the owner writes progress
	// and position after this long or this many changes, whichever
	// comes first (default 1s and 1000).
	CheckpointEvery  time.Duration
	CheckpointEvents int
	// Keep is how long finished operations are kept (default 24h).
	Keep time.Duration
	// Log is nil for none.
	Log *slog.Logger
}

// Defaults used for the zero values of Config.
const (
	DefaultCheckpointEvery  = time.Second
	DefaultCheckpointEvents = 1000
	DefaultKeep             = 24 * time.Hour
	DefaultLeaseTTL         = 15 * time.Second
)

// RunFunc runs an operation until it is done or ctx ends. A run taken
// over from another replica starts at op.Resume(). Counting progress and
// checkpoints on op is the run's job.
type RunFunc func(ctx context.Context, op *Op) error

type kind struct {
	counters []string
	run      RunFunc
}

// Manager starts operations, runs those this instance owns, and takes
// over those whose owner is gone. Safe for concurrent use.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	ctx   context.Context // ends at Stop: the runs hand over
	halt  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	kinds map[string]kind
	local map[string]*Op // running in this process
	loop  bool           // the takeover loop runs
}

// New returns a manager. Register the kinds, then call Start for the
// takeover of other replicas' operations.
func New(cfg Config) *Manager {
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.CheckpointEvents <= 0 {
		cfg.CheckpointEvents = DefaultCheckpointEvents
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Instance == "" {
		cfg.Instance = "eventbridge"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, halt := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, log: cfg.Log, ctx: ctx, halt: halt, kinds: map[string]kind{}, local: map[string]*Op{}}
}

// NewManager returns a manager that keeps operations in memory, for one
// process.
func NewManager() *Manager { return New(Config{}) }

// Register says how operations of kind run, here and when taken over;
// counters are created at zero so that clients see them from the start.
// Register before Start and Launch.
func (m *Manager) Register(name string, counters []string, run RunFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.kinds[name]; dup || name == "" {
		panic("operations: kind registered twice or empty: " + name)
	}
	m.kinds[name] = kind{counters: counters, run: run}
}

func leaseKey(id string) string { return "op." + id }

func (m *Manager) renewEvery() time.Duration { return max(m.cfg.LeaseTTL/3, 10*time.Millisecond) }

// newID returns a new operation id: kind, time, and random bits so that
// replicas never pick the same.
func newID(kind string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return kind + "-" + strconv.FormatInt(time.Now().Unix(), 36) + "-" + hex.EncodeToString(b[:])
}

// Launch starts an operation of kind with params (stored as JSON: the run
// reads them back with Op.Params) and returns it as it starts.
func (m *Manager) Launch(ctx context.Context, kindName string, params any) (View, error) {
	m.mu.Lock()
	k, ok := m.kinds[kindName]
	m.mu.Unlock()
	if !ok {
		return View{}, fmt.Errorf("ops: unknown kind %q", kindName)
	}
	if m.ctx.Err() != nil {
		return View{}, ErrStopped
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return View{}, fmt.Errorf("ops: params: %w", err)
	}
	now := time.Now().UTC()
	rec := bus.OpRecord{
		ID: newID(kindName), Kind: kindName, Params: raw, State: Running, Progress: map[string]int64{},
		Owner: m.cfg.Instance, Started: now, Updated: now,
	}
	for _, c := range k.counters {
		rec.Progress[c] = 0
	}
	if m.cfg.Leases != nil {
		held, _, err := m.cfg.Leases.Acquire(ctx, leaseKey(rec.ID), m.cfg.Instance)
		if err != nil {
			return View{}, fmt.Errorf("ops: lease: %w", err)
		}
		if !held {
			return View{}, fmt.Errorf("ops: lease of %s is taken", rec.ID)
		}
	}
	if err := m.cfg.Store.Create(ctx, &rec); err != nil {
		m.release(rec.ID)
		return View{}, fmt.Errorf("ops: store: %w", err)
	}
	op, err := m.launch(rec, k)
	if err != nil {
		return View{}, err
	}
	return op.View(), nil
}

// launch runs rec, owned by this instance, in the background.
func (m *Manager) launch(rec bus.OpRecord, k kind) (*Op, error) {
	if rec.Progress == nil {
		rec.Progress = map[string]int64{}
	}
	op := &Op{id: rec.ID, params: rec.Params, rec: rec, resumed: rec.Checkpoint, kick: make(chan struct{}, 1), every: m.cfg.CheckpointEvents, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(m.ctx)
	op.cancel = cancel
	m.mu.Lock()
	if m.ctx.Err() != nil {
		m.mu.Unlock()
		cancel()
		m.handOver(op)
		return nil, ErrStopped
	}
	m.local[rec.ID] = op
	m.wg.Add(1)
	m.mu.Unlock()
	go m.run(ctx, op, k.run)
	return op, nil
}

// Get returns the operation id, from any replica.
func (m *Manager) Get(ctx context.Context, id string) (View, error) {
	m.mu.Lock()
	op, ok := m.local[id]
	m.mu.Unlock()
	if ok {
		return op.View(), nil
	}
	rec, err := m.cfg.Store.Get(ctx, id)
	if errors.Is(err, bus.ErrKeyNotFound) {
		return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return View{}, fmt.Errorf("ops: %w", err)
	}
	return viewOf(rec), nil
}

// List returns the operations of a kind, of every replica, newest first.
func (m *Manager) List(ctx context.Context, kindName string) ([]View, error) {
	recs, err := m.cfg.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []View
	for _, r := range recs {
		if r.Kind != kindName {
			continue
		}
		if op, ok := m.local[r.ID]; ok {
			out = append(out, op.View())
			continue
		}
		out = append(out, viewOf(r))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}

// Cancel stops a running operation, wherever it runs, and returns it. It
// waits (until ctx ends) for its owner to stop it; an operation without
// an owner (whose owner died) is marked cancelled at once.
func (m *Manager) Cancel(ctx context.Context, id string) (View, error) {
	m.mu.Lock()
	op, ok := m.local[id]
	m.mu.Unlock()
	if ok {
		op.stop(byUser)
		select {
		case <-op.done:
		case <-ctx.Done():
			return op.View(), nil
		}
		return m.Get(ctx, id)
	}
	var rec bus.OpRecord
	for {
		var err error
		if rec, err = m.cfg.Store.Get(ctx, id); err != nil {
			if errors.Is(err, bus.ErrKeyNotFound) {
				return View{}, fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return View{}, fmt.Errorf("ops: %w", err)
		}
		if rec.State != Running || rec.CancelRequested {
			break
		}
		rec.CancelRequested = true
		rec.Updated = time.Now().UTC()
		err = m.cfg.Store.Update(ctx, &rec)
		if err == nil {
			break
		}
		if !errors.Is(err, bus.ErrRevisionMismatch) {
			return View{}, fmt.Errorf("ops: %w", err)
		}
	}
	if rec.State != Running {
		return viewOf(rec), nil
	}
	if m.cfg.Leases != nil {
		if holder, err := m.cfg.Leases.Holder(ctx, leaseKey(id)); err == nil && holder == "" {
			// Nobody runs it: finish it here. A replica taking it over
			// meanwhile sees the request and finishes it the same way.
			if err := m.finishUnowned(ctx, rec); err == nil {
				return m.Get(ctx, id)
			}
		}
	}
	t := time.NewTicker(min(m.cfg.CheckpointEvery/2, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return m.Get(context.WithoutCancel(ctx), id)
		case <-t.C:
		}
		v, err := m.Get(ctx, id)
		if err != nil || v.State != Running {
			return v, err
		}
	}
}

// finishUnowned marks rec cancelled, if it still runs unowned.
func (m *Manager) finishUnowned(ctx context.Context, rec bus.OpRecord) error {
	now := time.Now().UTC()
	rec.State, rec.Owner, rec.Finished, rec.Updated = Cancelled, "", now, now
	return m.cfg.Store.Update(ctx, &rec)
}

// release gives up the lease of id, if there are leases.
func (m *Manager) release(id string) {
	if m.cfg.Leases == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.cfg.Leases.Release(ctx, leaseKey(id), m.cfg.Instance); err != nil {
		m.log.Warn("cannot release an operation's lease; it expires by itself", "operation", id, "err", err)
	}
}

// Start starts taking over the operations whose owner is gone (with
// Leases), and forgetting finished operations after Keep. It first looks
// at once, so that a restarted replica continues what it ran.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loop || m.ctx.Err() != nil {
		return
	}
	m.loop = true
	m.wg.Add(1)
	go m.keeper()
}

// Stop stops the operations this process runs and hands them over: each
// is left running, without an owner, at its last checkpoint, for another
// replica (or this one's next start) to continue. It waits for them until
// ctx ends.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock() // launch checks m.ctx and counts its run under m.mu
	m.halt()
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
