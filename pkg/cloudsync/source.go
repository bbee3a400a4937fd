package cloudsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Handler handles a received object: for an agent a spec (Added,
// Modified, Deleted), for a source a status (StatusModified). An error is
// logged; the event is not redelivered.
type Handler[T Object] func(ctx context.Context, action ResourceAction, obj T) error

// SourceOptions configure a SourceClient.
type SourceOptions struct {
	// SourceID is the source's id: the CloudEvents source of its events
	// and the originalsource agents answer to. Required.
	SourceID string
	// Transport carries the events. Required.
	Transport Transport
	// ResyncClusters are the clusters the automatic status resync asks,
	// one request each. Empty: one request to all clusters (clustername
	// "", which MQTT sends to the source broadcast topic).
	ResyncClusters []string
}

// SourceClient is the source side: it publishes specs, receives statuses
// and answers the agents' spec resync requests.
type SourceClient[T Object] struct {
	*core
	opts   SourceOptions
	lister Lister[T]
	hash   StatusHashFunc[T]
	codec  Codec[T]
}

// NewSourceClient connects a source client. ctx bounds the client's life
// (Close ends it earlier). hash nil uses DefaultStatusHash.
func NewSourceClient[T Object](ctx context.Context, opts SourceOptions, lister Lister[T], hash StatusHashFunc[T], codec Codec[T], options ...Option) (*SourceClient[T], error) {
	if lister == nil || codec == nil {
		return nil, errors.New("cloudsync: a Lister and a Codec are required")
	}
	if hash == nil {
		hash = DefaultStatusHash[T]
	}
	s := &SourceClient[T]{opts: opts, lister: lister, hash: hash, codec: codec}
	c, err := newCore(ctx, RoleSource, opts.SourceID, opts.Transport, codec.EventDataType(), options)
	if err != nil {
		return nil, err
	}
	c.resync = s.autoResync
	s.core = c
	return s, nil
}

func (s *SourceClient[T]) autoResync(ctx context.Context) error {
	clusters := s.opts.ResyncClusters
	if len(clusters) == 0 {
		clusters = []string{ClusterAll}
	}
	var errs []error
	for _, cl := range clusters {
		if err := s.Resync(ctx, cl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SourceID returns the source's id.
func (s *SourceClient[T]) SourceID() string { return s.opts.SourceID }

// Publish sends a spec event (create, update, delete, or a resync
// response) for obj.
func (s *SourceClient[T]) Publish(ctx context.Context, t EventType, obj T) error {
	if t.DataType != s.codec.EventDataType() {
		return fmt.Errorf("cloudsync: data type %s: the codec handles %s", t.DataType, s.codec.EventDataType())
	}
	if t.SubResource != SubResourceSpec {
		return fmt.Errorf("cloudsync: a source publishes spec events, not %s", t)
	}
	evt, err := s.codec.Encode(s.opts.SourceID, t, obj)
	if err != nil {
		return fmt.Errorf("cloudsync: encode %s: %w", t, err)
	}
	return s.send(ctx, *evt)
}

// Resync asks the agents of clusterName (ClusterAll: every cluster) for
// the statuses whose hash differs from the source's: it sends a
// status.resync_request with the hashes of the source's objects.
func (s *SourceClient[T]) Resync(ctx context.Context, clusterName string) error {
	dt := s.codec.EventDataType()
	objs, err := s.lister.List(ListOptions{Source: s.opts.SourceID, ClusterName: clusterName, DataType: dt})
	if err != nil {
		return fmt.Errorf("cloudsync: status resync: list: %w", err)
	}
	req := ResourceStatusHashList{Hashes: make([]ResourceStatusHash, 0, len(objs))}
	for _, obj := range objs {
		h, err := s.hash(obj)
		if err != nil {
			return fmt.Errorf("cloudsync: status resync: hash %s: %w", obj.GetUID(), err)
		}
		req.Hashes = append(req.Hashes, ResourceStatusHash{ResourceID: obj.GetUID(), StatusHash: h})
	}
	t := EventType{DataType: dt, SubResource: SubResourceStatus, Action: ResyncRequest}
	evt := NewEvent(s.opts.SourceID, t, EventOptions{ClusterName: clusterName})
	if err := evt.SetData(cloudevents.ApplicationJSON, req); err != nil {
		return fmt.Errorf("cloudsync: status resync: %w", err)
	}
	return s.send(ctx, evt)
}

// Subscribe starts receiving: status events go to handler (as
// StatusModified); spec resync requests are answered from the Lister.
// The subscription lasts until ctx is done or the client is closed, and
// is renewed after every reconnect. With automatic resync on, a status
// resync request follows every (re)subscribe.
func (s *SourceClient[T]) Subscribe(ctx context.Context, handler Handler[T]) error {
	if handler == nil {
		return errors.New("cloudsync: a Handler is required")
	}
	return s.subscribe(ctx, func(ctx context.Context, evt cloudevents.Event) {
		s.receive(ctx, evt, handler)
	})
}

func (s *SourceClient[T]) receive(ctx context.Context, evt cloudevents.Event, handler Handler[T]) {
	log := s.cfg.log.With("role", "source", "id", s.opts.SourceID, "type", evt.Type(), "event", evt.ID())
	if evt.Type() == HeartbeatType {
		return
	}
	t, err := ParseEventType(evt.Type())
	if err != nil {
		log.Debug("cloudsync: dropped an event of an unknown type", "err", err)
		return
	}
	if t.DataType != s.codec.EventDataType() {
		log.Debug("cloudsync: dropped an event of another data type")
		return
	}
	if t.Action == ResyncRequest {
		if t.SubResource != SubResourceSpec {
			log.Debug("cloudsync: dropped a status resync request (sources answer spec resync requests)")
			return
		}
		if o := ExtString(&evt, ExtOriginalSource); o != SourceAll && o != s.opts.SourceID {
			log.Debug("cloudsync: dropped a spec resync request for another source", "originalsource", o)
			return
		}
		if err := s.respondSpecResync(ctx, t.DataType, &evt); err != nil {
			log.Error("cloudsync: spec resync failed", "err", err)
		}
		// An agent that asks for specs has just (re)subscribed: the
		// statuses it published while away are lost, so ask for them
		// (the agent's request says its cluster).
		if cl := ExtString(&evt, ExtClusterName); s.cfg.resync && cl != ClusterAll {
			if err := s.Resync(ctx, cl); err != nil {
				log.Warn("cloudsync: status resync after an agent's spec resync", "err", err)
			}
		}
		return
	}
	if t.SubResource != SubResourceStatus {
		log.Debug("cloudsync: dropped a spec event (sources handle status events)")
		return
	}
	obj, err := s.codec.Decode(&evt)
	if err != nil {
		log.Error("cloudsync: decode status", "err", err)
		return
	}
	if err := handler(ctx, StatusModified, obj); err != nil {
		log.Error("cloudsync: status handler", "err", err)
	}
}

// respondSpecResync answers a spec resync request (PlanSpecResync).
func (s *SourceClient[T]) respondSpecResync(ctx context.Context, dt DataType, evt *cloudevents.Event) error {
	var req ResourceVersionList
	if len(evt.Data()) > 0 {
		if err := evt.DataAs(&req); err != nil {
			return fmt.Errorf("decode the resync request %q: %w", evt.Data(), err)
		}
	}
	cluster := ExtString(evt, ExtClusterName)
	objs, err := s.lister.List(ListOptions{ClusterName: cluster, Source: s.opts.SourceID, DataType: dt})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	send, gone := PlanSpecResync(objs, req)
	t := EventType{DataType: dt, SubResource: SubResourceSpec, Action: ResyncResponse}
	var errs []error
	for _, obj := range send {
		if err := s.Publish(ctx, t, obj); err != nil {
			errs = append(errs, err)
		}
	}
	now := time.Now()
	for _, g := range gone {
		v := g.ResourceVersion
		del := NewEvent(s.opts.SourceID, t, EventOptions{
			ClusterName: cluster, ResourceID: g.ResourceID, ResourceVersion: &v, DeletionTimestamp: now,
		})
		if err := s.send(ctx, del); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
