package grpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	cetypes "github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// specStore keeps the latest spec event the broker saw per (data type,
// cluster, resource id), durably, to answer spec resync requests. A
// deletion (an event with deletiontimestamp) is kept as a tombstone for
// tombstoneTTL so that agents that reconnect after it learn of it.
//
// Layout in the durable store: one key per object (o.<cluster hash>.<id
// hash>, the event in JSON) and one index per (data type, cluster)
// (ix.<cluster hash>, the JSON list of ids), since the store cannot list
// keys. Reads go through an in-memory copy loaded on first use.
type specStore struct {
	st  jobs.Store
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	clusters map[string]*clusterSpecs // by cluster hash
}

type clusterSpecs struct {
	objs map[string]*ce.Event // by resource id
}

func newSpecStore(st jobs.Store, ttl time.Duration) *specStore {
	return &specStore{st: st, ttl: ttl, now: time.Now, clusters: map[string]*clusterSpecs{}}
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

func clusterKey(dt cloudsync.DataType, cluster string) string { return hash(dt.String(), cluster) }

// load returns the objects of a cluster, reading them from the durable
// store on first use. Called with mu held.
func (s *specStore) load(ctx context.Context, ck string) (*clusterSpecs, error) {
	if c, ok := s.clusters[ck]; ok {
		return c, nil
	}
	c := &clusterSpecs{objs: map[string]*ce.Event{}}
	raw, err := s.st.Get(ctx, "ix."+ck)
	switch {
	case errors.Is(err, jobs.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, fmt.Errorf("spec index %s: %w", ck, err)
		}
		for _, id := range ids {
			b, err := s.st.Get(ctx, "o."+ck+"."+hash(id))
			if errors.Is(err, jobs.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			e := ce.New()
			if err := json.Unmarshal(b, &e); err != nil {
				return nil, fmt.Errorf("spec %s: %w", id, err)
			}
			normalize(&e)
			c.objs[id] = &e
		}
	}
	s.clusters[ck] = c
	return c, nil
}

// normalize gives the extensions the resync reads their CloudEvents
// types again after a JSON round trip (numbers come back as float64 or
// strings).
func normalize(e *ce.Event) {
	ext := e.Extensions()
	if v, ok := ext[cloudsync.ExtResourceVersion]; ok {
		if i, err := cetypes.ToInteger(v); err == nil {
			e.SetExtension(cloudsync.ExtResourceVersion, i)
		}
	}
	if v, ok := ext[cloudsync.ExtDeletionTimestamp]; ok {
		if t, err := cetypes.ToTime(v); err == nil {
			e.SetExtension(cloudsync.ExtDeletionTimestamp, cetypes.Timestamp{Time: t})
		}
	}
}

// saveIndex writes the id list of a cluster. Called with mu held.
func (s *specStore) saveIndex(ctx context.Context, ck string, c *clusterSpecs) error {
	ids := make([]string, 0, len(c.objs))
	for id := range c.objs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b, _ := json.Marshal(ids)
	return s.st.Put(ctx, "ix."+ck, b)
}

// record keeps e as the latest spec of its object unless it is older than
// the one kept (a lower resource version of a live object).
func (s *specStore) record(ctx context.Context, dt cloudsync.DataType, e *ce.Event) error {
	id := cloudsync.ExtString(e, cloudsync.ExtResourceID)
	if id == "" {
		return nil
	}
	cluster := cloudsync.ExtString(e, cloudsync.ExtClusterName)
	ck := clusterKey(dt, cluster)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.load(ctx, ck)
	if err != nil {
		return err
	}
	if old, ok := c.objs[id]; ok && !deleted(old) && !deleted(e) {
		ov, _, _ := cloudsync.ExtInt64(old, cloudsync.ExtResourceVersion)
		nv, _, _ := cloudsync.ExtInt64(e, cloudsync.ExtResourceVersion)
		if nv != 0 && nv < ov {
			return nil
		}
	}
	keep := e.Clone()
	b, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	if err := s.st.Put(ctx, "o."+ck+"."+hash(id), b); err != nil {
		return err
	}
	_, had := c.objs[id]
	c.objs[id] = &keep
	if !had {
		if err := s.saveIndex(ctx, ck, c); err != nil {
			delete(c.objs, id)
			return err
		}
	}
	return nil
}

// list returns the objects of a cluster (only those whose source is
// source, unless source is ""), without tombstones older than the TTL,
// which it drops.
func (s *specStore) list(ctx context.Context, dt cloudsync.DataType, cluster, source string) ([]specObj, error) {
	ck := clusterKey(dt, cluster)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.load(ctx, ck)
	if err != nil {
		return nil, err
	}
	var out []specObj
	pruned := false
	for id, e := range c.objs {
		if t, ok, _ := cloudsync.ExtTime(e, cloudsync.ExtDeletionTimestamp); ok && s.ttl > 0 && s.now().Sub(t) > s.ttl {
			if err := s.st.Delete(ctx, "o."+ck+"."+hash(id)); err == nil {
				delete(c.objs, id)
				pruned = true
			}
			continue
		}
		if source != "" && e.Source() != source {
			continue
		}
		out = append(out, specObj{id: id, e: e})
	}
	if pruned {
		if err := s.saveIndex(ctx, ck, c); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

func deleted(e *ce.Event) bool {
	_, ok := e.Extensions()[cloudsync.ExtDeletionTimestamp]
	return ok
}

// specObj is a kept spec event as a cloudsync.Object, for the shared
// resync decision (cloudsync.PlanSpecResync).
type specObj struct {
	id string
	e  *ce.Event
}

func (o specObj) GetUID() string { return o.id }

func (o specObj) GetResourceVersion() int64 {
	v, _, _ := cloudsync.ExtInt64(o.e, cloudsync.ExtResourceVersion)
	return v
}

func (o specObj) GetDeletionTimestamp() *time.Time {
	t, ok, _ := cloudsync.ExtTime(o.e, cloudsync.ExtDeletionTimestamp)
	if !ok {
		if deleted(o.e) {
			t = time.Now()
			return &t
		}
		return nil
	}
	return &t
}

var _ cloudsync.Object = specObj{}
