package cloudsync

import (
	"context"
	"errors"
	"fmt"
	"sync"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// AgentOptions configure an AgentClient.
type AgentOptions struct {
	// AgentID is the agent's id: the CloudEvents source of its events.
	// Required.
	AgentID string
	// ClusterName is the cluster the agent serves: it receives only the
	// spec events of this cluster. Required.
	ClusterName string
	// Transport carries the events. Required.
	Transport Transport
	// ResyncSources are the sources the automatic spec resync asks, one
	// request each. Empty: one request to all sources (originalsource "").
	ResyncSources []string
}

// AgentClient is the agent side: it receives specs, publishes statuses
// and answers the sources' status resync requests.
type AgentClient[T Object] struct {
	*core
	opts   AgentOptions
	lister Lister[T]
	hash   StatusHashFunc[T]
	codec  Codec[T]

	heardMu sync.Mutex
	heard   map[string]bool // sources heard from since the last (re)subscribe
}

// NewAgentClient connects an agent client. ctx bounds the client's life
// (Close ends it earlier). hash nil uses DefaultStatusHash.
func NewAgentClient[T Object](ctx context.Context, opts AgentOptions, lister Lister[T], hash StatusHashFunc[T], codec Codec[T], options ...Option) (*AgentClient[T], error) {
	if lister == nil || codec == nil {
		return nil, errors.New("cloudsync: a Lister and a Codec are required")
	}
	if opts.ClusterName == "" {
		return nil, errors.New("cloudsync: the agent's ClusterName is required")
	}
	if hash == nil {
		hash = DefaultStatusHash[T]
	}
	a := &AgentClient[T]{opts: opts, lister: lister, hash: hash, codec: codec, heard: map[string]bool{}}
	c, err := newCore(ctx, RoleAgent, opts.AgentID, opts.Transport, codec.EventDataType(), options)
	if err != nil {
		return nil, err
	}
	c.resync = a.autoResync
	c.onSubscribe = a.forget
	a.core = c
	return a, nil
}

func (a *AgentClient[T]) autoResync(ctx context.Context) error {
	sources := a.opts.ResyncSources
	if len(sources) == 0 {
		sources = []string{SourceAll}
	}
	var errs []error
	for _, src := range sources {
		if err := a.Resync(ctx, src); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hear notes an event from source and reports whether it is the first
// since the last (re)subscribe.
func (a *AgentClient[T]) hear(source string) bool {
	a.heardMu.Lock()
	defer a.heardMu.Unlock()
	if a.heard[source] {
		return false
	}
	a.heard[source] = true
	return true
}

// forget clears what hear noted: called on every (re)subscribe.
func (a *AgentClient[T]) forget() {
	a.heardMu.Lock()
	defer a.heardMu.Unlock()
	clear(a.heard)
}

// AgentID returns the agent's id.
func (a *AgentClient[T]) AgentID() string { return a.opts.AgentID }

// ClusterName returns the agent's cluster.
func (a *AgentClient[T]) ClusterName() string { return a.opts.ClusterName }

// Publish sends a status event (usually status.update_request) for obj.
func (a *AgentClient[T]) Publish(ctx context.Context, t EventType, obj T) error {
	if t.DataType != a.codec.EventDataType() {
		return fmt.Errorf("cloudsync: data type %s: the codec handles %s", t.DataType, a.codec.EventDataType())
	}
	evt, err := a.codec.Encode(a.opts.AgentID, t, obj)
	if err != nil {
		return fmt.Errorf("cloudsync: encode %s: %w", t, err)
	}
	return a.send(ctx, *evt)
}

// Resync asks source (SourceAll: every source) for the specs newer than
// the agent's: it sends a spec.resync_request with the versions of the
// agent's objects of that source.
func (a *AgentClient[T]) Resync(ctx context.Context, source string) error {
	dt := a.codec.EventDataType()
	objs, err := a.lister.List(ListOptions{Source: source, ClusterName: a.opts.ClusterName, DataType: dt})
	if err != nil {
		return fmt.Errorf("cloudsync: spec resync: list: %w", err)
	}
	req := ResourceVersionList{Versions: make([]ResourceVersion, 0, len(objs))}
	for _, obj := range objs {
		req.Versions = append(req.Versions, ResourceVersion{ResourceID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion()})
	}
	t := EventType{DataType: dt, SubResource: SubResourceSpec, Action: ResyncRequest}
	evt := NewEvent(a.opts.AgentID, t, EventOptions{ClusterName: a.opts.ClusterName, OriginalSource: source})
	if err := evt.SetData(cloudevents.ApplicationJSON, req); err != nil {
		return fmt.Errorf("cloudsync: spec resync: %w", err)
	}
	return a.send(ctx, evt)
}

// Subscribe starts receiving: the spec events of the agent's cluster go
// to handler (Added, Modified or Deleted, judged against the Lister; a
// version not newer than the agent's is dropped); status resync requests
// are answered from the Lister. The subscription lasts until ctx is done
// or the client is closed, and is renewed after every reconnect. With
// automatic resync on, a spec resync request follows every
// (re)subscribe.
func (a *AgentClient[T]) Subscribe(ctx context.Context, handler Handler[T]) error {
	if handler == nil {
		return errors.New("cloudsync: a Handler is required")
	}
	return a.subscribe(ctx, func(ctx context.Context, evt cloudevents.Event) {
		a.receive(ctx, evt, handler)
	})
}

func (a *AgentClient[T]) receive(ctx context.Context, evt cloudevents.Event, handler Handler[T]) {
	log := a.cfg.log.With("role", "agent", "id", a.opts.AgentID, "type", evt.Type(), "event", evt.ID())
	if evt.Type() == HeartbeatType {
		return
	}
	t, err := ParseEventType(evt.Type())
	if err != nil {
		log.Debug("cloudsync: dropped an event of an unknown type", "err", err)
		return
	}
	if t.DataType != a.codec.EventDataType() {
		log.Debug("cloudsync: dropped an event of another data type")
		return
	}
	cluster := ExtString(&evt, ExtClusterName)
	if t.Action == ResyncRequest {
		if t.SubResource != SubResourceStatus {
			log.Debug("cloudsync: dropped a spec resync request (agents answer status resync requests)")
			return
		}
		if cluster != ClusterAll && cluster != a.opts.ClusterName {
			log.Debug("cloudsync: dropped a status resync request for another cluster", "clustername", cluster)
			return
		}
		first := a.hear(evt.Source())
		if err := a.respondStatusResync(ctx, t.DataType, &evt); err != nil {
			log.Error("cloudsync: status resync failed", "err", err)
		}
		// The first word from a source since the agent (re)subscribed is
		// a status resync request: the source has just (re)subscribed,
		// and the agent's own spec resync may have reached no one. Ask
		// again (the source answers the specs, then asks for statuses
		// once more: by then the agent has heard from it).
		if first && a.cfg.resync {
			if err := a.Resync(ctx, evt.Source()); err != nil {
				log.Warn("cloudsync: spec resync after a source's status resync", "err", err)
			}
		}
		return
	}
	if t.SubResource != SubResourceSpec {
		log.Debug("cloudsync: dropped a status event (agents handle spec events)")
		return
	}
	if cluster != a.opts.ClusterName {
		log.Debug("cloudsync: dropped a spec event for another cluster", "clustername", cluster)
		return
	}
	a.hear(evt.Source())
	obj, err := a.codec.Decode(&evt)
	if err != nil {
		log.Error("cloudsync: decode spec", "err", err)
		return
	}
	action, err := a.specAction(evt.Source(), t.DataType, obj)
	if err != nil {
		log.Error("cloudsync: compare spec", "err", err)
		return
	}
	if action == "" {
		return
	}
	if err := handler(ctx, action, obj); err != nil {
		log.Error("cloudsync: spec handler", "err", err)
	}
}

// specAction judges a received spec against the agent's copy: being
// deleted ⇒ Deleted; unknown ⇒ Added; both versions 0 ⇒ Modified (the
// broker keeps order); a newer version ⇒ Modified; else nothing.
func (a *AgentClient[T]) specAction(source string, dt DataType, obj T) (ResourceAction, error) {
	if obj.GetDeletionTimestamp() != nil {
		return Deleted, nil
	}
	objs, err := a.lister.List(ListOptions{ClusterName: a.opts.ClusterName, Source: source, DataType: dt})
	if err != nil {
		return "", err
	}
	return SpecAction(objs, obj), nil
}

// SpecAction is the agent's decision for a received spec obj given the
// objects it holds: Deleted when obj is being deleted, Added when its id
// is unknown, Modified when both versions are 0 or obj's is newer, ""
// (ignore) otherwise.
func SpecAction[T Object](held []T, obj T) ResourceAction {
	if obj.GetDeletionTimestamp() != nil {
		return Deleted
	}
	for _, h := range held {
		if h.GetUID() != obj.GetUID() {
			continue
		}
		if obj.GetResourceVersion() == 0 && h.GetResourceVersion() == 0 {
			return Modified
		}
		if obj.GetResourceVersion() > h.GetResourceVersion() {
			return Modified
		}
		return ""
	}
	return Added
}

// respondStatusResync answers a status resync request (PlanStatusResync).
func (a *AgentClient[T]) respondStatusResync(ctx context.Context, dt DataType, evt *cloudevents.Event) error {
	var req ResourceStatusHashList
	if len(evt.Data()) > 0 {
		if err := evt.DataAs(&req); err != nil {
			return fmt.Errorf("decode the resync request %q: %w", evt.Data(), err)
		}
	}
	objs, err := a.lister.List(ListOptions{ClusterName: a.opts.ClusterName, Source: evt.Source(), DataType: dt})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	t := EventType{DataType: dt, SubResource: SubResourceStatus, Action: ResyncResponse}
	var errs []error
	for _, obj := range PlanStatusResync(objs, req, a.hash) {
		if err := a.Publish(ctx, t, obj); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
