package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Leases hands out leases on the bucket "leases": at most one owner holds
// a key at a time. A lease not renewed within the bucket's TTL vanishes,
// and Create hands it to the next instance that asks. Renewal is a
// compare-and-set on the revision, so two instances never both believe
// they renewed. Each Leases remembers the revisions of the leases its
// process holds: open one per process. Safe for concurrent use.
type Leases struct {
	kv   *KV
	mu   sync.Mutex
	revs map[string]uint64 // revision of each lease this process holds
}

// Leases opens the lease bucket with this TTL (jobs.lease_ttl).
func (b *Bus) Leases(ctx context.Context, ttl time.Duration) (*Leases, error) {
	kv, err := b.KV(ctx, LeasesBucket(ttl))
	if err != nil {
		return nil, err
	}
	return &Leases{kv: kv, revs: map[string]uint64{}}, nil
}

type leaseValue struct {
	Owner   string    `json:"owner"`
	Renewed time.Time `json:"renewed"`
}

func isLeaseConflict(err error) bool {
	return errors.Is(err, ErrKeyExists) || errors.Is(err, ErrRevisionMismatch)
}

// Acquire takes the lease on key for owner, or renews it when owner holds
// it. It reports whether owner holds it now, and who does. An error means
// the outcome is unknown: treat the lease as lost.
func (l *Leases) Acquire(ctx context.Context, key, owner string) (bool, string, error) {
	now := time.Now().UTC()
	l.mu.Lock()
	rev, had := l.revs[key]
	l.mu.Unlock()
	val, _ := json.Marshal(leaseValue{Owner: owner, Renewed: now})
	if had {
		nrev, err := l.kv.Update(ctx, key, val, rev)
		if err == nil {
			l.setRev(key, nrev)
			return true, owner, nil
		}
		l.forget(key)
		if !isLeaseConflict(err) {
			return false, "", fmt.Errorf("bus: renew lease %s: %w", key, err)
		}
		// Expired (and perhaps taken): ask afresh below.
	}
	nrev, err := l.kv.Create(ctx, key, val)
	if err == nil {
		l.setRev(key, nrev)
		return true, owner, nil
	}
	if !isLeaseConflict(err) {
		return false, "", fmt.Errorf("bus: take lease %s: %w", key, err)
	}
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) {
			return false, "", nil // it just expired; the next try may take it
		}
		return false, "", fmt.Errorf("bus: read lease %s: %w", key, err)
	}
	var cur leaseValue
	_ = json.Unmarshal(e.Value, &cur)
	if cur.Owner != owner {
		return false, cur.Owner, nil
	}
	// Ours from an earlier life of this instance (a restart within the
	// TTL): take it back.
	nrev, err = l.kv.Update(ctx, key, val, e.Revision)
	if err != nil {
		if isLeaseConflict(err) {
			return false, "", nil
		}
		return false, "", fmt.Errorf("bus: take lease %s: %w", key, err)
	}
	l.setRev(key, nrev)
	return true, owner, nil
}

// Release gives the lease up if owner holds it, even when a renewal cut
// short left its revision unknown.
func (l *Leases) Release(ctx context.Context, key, owner string) error {
	l.mu.Lock()
	rev, had := l.revs[key]
	delete(l.revs, key)
	l.mu.Unlock()
	if had {
		err := l.kv.Delete(ctx, key, rev)
		if err == nil {
			return nil
		}
		if !isLeaseConflict(err) {
			return fmt.Errorf("bus: release lease %s: %w", key, err)
		}
	}
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) {
			return nil
		}
		return fmt.Errorf("bus: release lease %s: %w", key, err)
	}
	var cur leaseValue
	if json.Unmarshal(e.Value, &cur) != nil || cur.Owner != owner {
		return nil
	}
	if err := l.kv.Delete(ctx, key, e.Revision); err != nil && !isLeaseConflict(err) {
		return fmt.Errorf("bus: release lease %s: %w", key, err)
	}
	return nil
}

// Holder returns who holds key ("" when nobody does).
func (l *Leases) Holder(ctx context.Context, key string) (string, error) {
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrKeyNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("bus: read lease %s: %w", key, err)
	}
	var cur leaseValue
	if err := json.Unmarshal(e.Value, &cur); err != nil {
		return "", fmt.Errorf("bus: lease %s: %w", key, err)
	}
	return cur.Owner, nil
}

func (l *Leases) setRev(key string, rev uint64) {
	l.mu.Lock()
	l.revs[key] = rev
	l.mu.Unlock()
}

func (l *Leases) forget(key string) {
	l.mu.Lock()
	delete(l.revs, key)
	l.mu.Unlock()
}

// SubjectJobRun is the core NATS subject on which instances ask the holder
// of a job's lease to run it now (jobs' RunNow on another instance).
const SubjectJobRun = "eventbridge.jobs.run"

// ServeJobRuns answers the requests of other instances to run a job now:
// run is called with the job's name and reports whether this instance
// took the run (it holds the job's lease); only then is the request
// answered, others stay silent. Call the returned stop when done.
func (b *Bus) ServeJobRuns(run func(job string) bool) (stop func(), err error) {
	sub, err := b.nc.Subscribe(b.n.subject(SubjectJobRun), func(msg *nats.Msg) {
		if run(string(msg.Data)) {
			_ = msg.Respond([]byte("ok"))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", SubjectJobRun, natsErr(err))
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// RequestJobRun asks the instance that holds job's lease to run it now,
// and reports whether one took the run before ctx ended.
func (b *Bus) RequestJobRun(ctx context.Context, job string) (bool, error) {
	msg, err := b.nc.RequestWithContext(ctx, b.n.subject(SubjectJobRun), []byte(job))
	if err != nil {
		return false, fmt.Errorf("bus: request %s: %w", SubjectJobRun, natsErr(err))
	}
	return string(msg.Data) == "ok", nil
}
