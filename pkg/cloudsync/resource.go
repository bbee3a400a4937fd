package cloudsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// StatusGetter is an object that exposes its status; DefaultStatusHash
// hashes it.
type StatusGetter interface {
	GetStatus() any
}

// DefaultStatusHash hashes obj's status with HashStatus when obj is a
// StatusGetter, else obj itself.
func DefaultStatusHash[T Object](obj T) (string, error) {
	if sg, ok := any(obj).(StatusGetter); ok {
		return HashStatus(sg.GetStatus())
	}
	return HashStatus(obj)
}

// Resource is a small generic resource for tests, examples and simple
// applications: an id, a spec version, the cluster and source it belongs
// to, and a spec and a status as JSON. Use *Resource as T with
// ResourceCodec and ResourceStore.
type Resource struct {
	ID          string          `json:"id"`
	Version     int64           `json:"version"`
	ClusterName string          `json:"clusterName"`
	Source      string          `json:"source"`
	Spec        json.RawMessage `json:"spec,omitempty"`
	Status      json.RawMessage `json:"status,omitempty"`
	// Deleting is set when the resource is being deleted.
	Deleting *time.Time `json:"deletionTimestamp,omitempty"`
}

// GetUID returns the id.
func (r *Resource) GetUID() string { return r.ID }

// GetResourceVersion returns the spec version.
func (r *Resource) GetResourceVersion() int64 { return r.Version }

// GetDeletionTimestamp returns when the deletion started, nil if not.
func (r *Resource) GetDeletionTimestamp() *time.Time { return r.Deleting }

// GetStatus returns the status (its JSON); the default hash covers it.
func (r *Resource) GetStatus() any {
	if len(r.Status) == 0 {
		return nil
	}
	return r.Status
}

// Clone returns a deep copy.
func (r *Resource) Clone() *Resource {
	c := *r
	c.Spec = slices.Clone(r.Spec)
	c.Status = slices.Clone(r.Status)
	if r.Deleting != nil {
		t := *r.Deleting
		c.Deleting = &t
	}
	return &c
}

// HashResourceStatus is the status hash of a Resource: HashStatus of its
// status JSON.
func HashResourceStatus(r *Resource) (string, error) { return HashStatus(r.GetStatus()) }

// ResourceCodec encodes a *Resource as events of one data type.
//
// Spec events (sources): data = the spec JSON, extensions clustername,
// resourceid, resourceversion (originalsource ""); a resource being
// deleted is sent without data and with deletiontimestamp. Status events
// (agents): data = the status JSON, extensions clustername,
// originalsource (the resource's Source), resourceid, resourceversion,
// statushash. Decoding takes the source of a spec from the event's
// source attribute and that of a status from originalsource.
type ResourceCodec struct {
	Type DataType
}

// EventDataType returns c.Type.
func (c ResourceCodec) EventDataType() DataType { return c.Type }

// Encode makes the event of type t for r.
func (c ResourceCodec) Encode(source string, t EventType, r *Resource) (*cloudevents.Event, error) {
	if t.DataType != c.Type {
		return nil, fmt.Errorf("data type %s, want %s", t.DataType, c.Type)
	}
	v := r.Version
	o := EventOptions{ClusterName: r.ClusterName, ResourceID: r.ID, ResourceVersion: &v}
	var data json.RawMessage
	switch t.SubResource {
	case SubResourceSpec:
		if r.Deleting != nil {
			o.DeletionTimestamp = *r.Deleting
		} else {
			data = r.Spec
		}
	case SubResourceStatus:
		o.OriginalSource = r.Source
		data = r.Status
	}
	evt := NewEvent(source, t, o)
	if t.SubResource == SubResourceStatus {
		h, err := HashResourceStatus(r)
		if err != nil {
			return nil, err
		}
		evt.SetExtension(ExtStatusHash, h)
	}
	if data != nil {
		if !json.Valid(data) {
			return nil, fmt.Errorf("resource %s: %s is not JSON", r.ID, t.SubResource)
		}
		if err := evt.SetData(cloudevents.ApplicationJSON, []byte(data)); err != nil {
			return nil, err
		}
	}
	return &evt, nil
}

// Decode makes a *Resource from an event.
func (c ResourceCodec) Decode(evt *cloudevents.Event) (*Resource, error) {
	t, err := ParseEventType(evt.Type())
	if err != nil {
		return nil, err
	}
	if t.DataType != c.Type {
		return nil, fmt.Errorf("data type %s, want %s", t.DataType, c.Type)
	}
	id := ExtString(evt, ExtResourceID)
	if id == "" {
		return nil, errors.New("event without a resourceid")
	}
	r := &Resource{ID: id, ClusterName: ExtString(evt, ExtClusterName)}
	if v, ok, err := ExtInt64(evt, ExtResourceVersion); err != nil {
		return nil, err
	} else if ok {
		r.Version = v
	}
	var data json.RawMessage
	if len(evt.Data()) > 0 {
		data = slices.Clone(evt.Data())
	}
	switch t.SubResource {
	case SubResourceSpec:
		r.Source = evt.Source()
		r.Spec = data
		if ts, ok, err := ExtTime(evt, ExtDeletionTimestamp); err != nil {
			return nil, err
		} else if ok {
			r.Deleting = &ts
		}
	case SubResourceStatus:
		r.Source = ExtString(evt, ExtOriginalSource)
		r.Status = data
	}
	return r, nil
}

// ResourceStore is a concurrency-safe map of Resources by id that
// implements Lister[*Resource]. It hands out and keeps copies.
type ResourceStore struct {
	mu sync.Mutex
	m  map[string]*Resource
}

// NewResourceStore returns an empty store.
func NewResourceStore() *ResourceStore { return &ResourceStore{m: map[string]*Resource{}} }

// Put stores a copy of r.
func (s *ResourceStore) Put(r *Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[r.ID] = r.Clone()
}

// Get returns a copy of the resource with id.
func (s *ResourceStore) Get(id string) (*Resource, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return nil, false
	}
	return r.Clone(), true
}

// Delete removes the resource with id.
func (s *ResourceStore) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// Update applies fn to the resource with id under the store's lock and
// reports whether it exists.
func (s *ResourceStore) Update(id string, fn func(r *Resource)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if ok {
		fn(r)
	}
	return ok
}

// List returns copies of the resources matching opts (an empty
// ClusterName or Source matches all), sorted by id.
func (s *ResourceStore) List(opts ListOptions) ([]*Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Resource, 0, len(s.m))
	for _, r := range s.m {
		if opts.ClusterName != "" && r.ClusterName != opts.ClusterName {
			continue
		}
		if opts.Source != "" && r.Source != opts.Source {
			continue
		}
		out = append(out, r.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
