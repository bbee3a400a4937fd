package interop

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// The tests drive a source and an agent through these interfaces, so that
// every scenario runs with OCM's clients and ours on either side.

// sourceClient is what a scenario needs of a source SDK client.
type sourceClient interface {
	// publishSpec publishes a spec event (create/update/delete_request).
	publishSpec(ctx context.Context, action types.EventAction, w *Widget) error
	// resyncStatus sends a status resync request to a cluster.
	resyncStatus(ctx context.Context, cluster string) error
}

// agentClient is what a scenario needs of an agent SDK client.
type agentClient interface {
	publishStatus(ctx context.Context, action types.EventAction, w *Widget) error
	resyncSpec(ctx context.Context, source string) error
}

// wireRecord is one event a codec decoded: what arrived on the wire.
type wireRecord struct {
	Action   string // the event type's action
	UID      string
	Version  int64
	Deleting bool
	Hash     string // statushash of status events
}

func (r wireRecord) String() string {
	s := fmt.Sprintf("%s:%s@%d", r.Action, r.UID, r.Version)
	if r.Deleting {
		s += "(deleting)"
	}
	return s
}

// wireLog records decoded events in order.
type wireLog struct {
	mu   sync.Mutex
	recs []wireRecord
}

func (l *wireLog) add(r wireRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
}

// since returns the records from index i on and the current length.
func (l *wireLog) since(i int) []wireRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i > len(l.recs) {
		return nil
	}
	return append([]wireRecord(nil), l.recs[i:]...)
}

func (l *wireLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

func describe(recs []wireRecord) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.String())
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// sourceSide is the application part of a source: its store of widgets and
// what it does with the statuses it receives.
type sourceSide struct {
	id       string
	client   sourceClient
	store    *store
	probes   *probeLog
	wire     *wireLog
	statuses atomic.Int64 // status events handled
	// reconnects counts the reconnect signals the client gave.
	reconnects atomic.Int64
	// autoResync turns the automatic resync of our clients on (default);
	// OCM's v1.1.0 clients have none.
	autoResync bool
	// share, when set, is the group of the shared subscription (MQTT)
	// through which the source consumes the agents' events.
	share string
	// onReconnect, when set, runs after each reconnect signal of our
	// client (the OCM helpers call republish themselves).
	onReconnect func()

	dirtyMu sync.Mutex
	dirty   map[string]bool // changed but not published
}

func newSourceSide(id string) *sourceSide {
	return &sourceSide{id: id, store: newStore(), probes: &probeLog{}, wire: &wireLog{}, autoResync: true, dirty: map[string]bool{}}
}

// onStatus is the status handler: it records the status; a "Deleted"
// status ends the deletion of a widget the source marked as deleting.
func (s *sourceSide) onStatus(w *Widget) {
	s.statuses.Add(1)
	if w.Status != nil && w.Status.Phase == "Deleted" {
		s.store.remove(w.UID)
		return
	}
	s.store.update(w.UID, func(cur *Widget) {
		cur.Status = w.Status
		cur.WireStatusHash = w.WireStatusHash
	})
}

// create adds a widget and, with publish, sends its create_request.
func (s *sourceSide) create(t *testing.T, ctx context.Context, w *Widget, publish bool) {
	t.Helper()
	w.Source = s.id
	if w.Version == 0 {
		w.Version = 1
	}
	s.store.put(w)
	if !publish {
		s.markDirty(w.UID)
		return
	}
	if err := s.client.publishSpec(ctx, types.CreateRequestAction, w); err != nil {
		t.Fatalf("source %s: create %s: %v", s.id, w.UID, err)
	}
}

// update changes a widget, raises its version and, with publish, sends its
// update_request.
func (s *sourceSide) update(t *testing.T, ctx context.Context, uid string, publish bool, fn func(w *Widget)) {
	t.Helper()
	var w *Widget
	if !s.store.update(uid, func(cur *Widget) {
		fn(cur)
		cur.Version++
		w = cur.clone()
	}) {
		t.Fatalf("source %s: update: no widget %s", s.id, uid)
	}
	if !publish {
		s.markDirty(uid)
		return
	}
	if err := s.client.publishSpec(ctx, types.UpdateRequestAction, w); err != nil {
		t.Fatalf("source %s: update %s: %v", s.id, uid, err)
	}
}

// markDeleting sets the deletion timestamp of a widget, as a hub does
// before the agent confirmed the deletion; publish says whether to send the
// delete_request now.
func (s *sourceSide) markDeleting(t *testing.T, ctx context.Context, uid string, publish bool) {
	t.Helper()
	var w *Widget
	if !s.store.update(uid, func(cur *Widget) {
		now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
		cur.Deleting = &now
		w = cur.clone()
	}) {
		t.Fatalf("source %s: delete: no widget %s", s.id, uid)
	}
	if !publish {
		s.markDirty(uid)
		return
	}
	if err := s.client.publishSpec(ctx, types.DeleteRequestAction, w); err != nil {
		t.Fatalf("source %s: delete %s: %v", s.id, uid, err)
	}
}

func (s *sourceSide) markDirty(uid string) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	s.dirty[uid] = true
}

// republish publishes the widgets changed while they could not be sent,
// as a controller requeues its objects after a reconnect. A broker that
// answers spec resyncs itself (eventbridge's gRPC broker, like OCM's)
// knows only the specs it was given.
func (s *sourceSide) republish(ctx context.Context, t *testing.T) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	for uid := range s.dirty {
		w, ok := s.store.get(uid)
		if !ok {
			delete(s.dirty, uid)
			continue
		}
		action := types.UpdateRequestAction
		if w.Deleting != nil {
			action = types.DeleteRequestAction
		}
		if err := s.client.publishSpec(ctx, action, w); err != nil {
			t.Logf("source %s: republish %s: %v", s.id, uid, err)
			continue
		}
		delete(s.dirty, uid)
	}
}

// agentSide is the application part of an agent: it applies specs, keeps
// them in its store and reports a status for each.
type agentSide struct {
	id, cluster string
	client      agentClient
	store       *store
	probes      *probeLog
	wire        *wireLog
	reconnects  atomic.Int64
	autoResync  bool

	queue chan *Widget // statuses to publish, in order
}

func newAgentSide(id, cluster string) *agentSide {
	return &agentSide{id: id, cluster: cluster, store: newStore(), probes: &probeLog{}, wire: &wireLog{}, queue: make(chan *Widget, 1000), autoResync: true}
}

// run publishes the queued statuses until ctx ends; handlers only queue,
// so no handler publishes from inside the receive path.
func (a *agentSide) run(ctx context.Context, t *testing.T) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case w := <-a.queue:
				for ctx.Err() == nil {
					err := a.client.publishStatus(ctx, types.UpdateRequestAction, w)
					if err == nil {
						break
					}
					// the client reports "not ready" while it reconnects;
					// the status goes out once it is back.
					t.Logf("agent %s: publish status %s: %v (retrying)", a.id, w.UID, err)
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		}
	}()
}

// onSpec is the spec handler.
func (a *agentSide) onSpec(action types.ResourceAction, w *Widget) {
	if action == types.Deleted || w.Deleting != nil {
		old, ok := a.store.get(w.UID)
		a.store.remove(w.UID)
		if ok {
			old.Status = &WidgetStatus{Phase: "Deleted", ObservedVersion: old.Version}
			a.queue <- old
		}
		return
	}
	w.Status = applied(w)
	a.store.put(w)
	a.queue <- w.clone()
}

// seed puts widgets into the agent's store as if it had applied them
// before (a restarted agent).
func (a *agentSide) seed(ws ...*Widget) {
	for _, w := range ws {
		w = w.clone()
		if w.Status == nil {
			w.Status = applied(w)
		}
		a.store.put(w)
	}
}

// inSync reports whether the source's widgets for the agent's cluster
// and the agent's widgets from that source agree on versions, specs and
// status hashes, and whether the source holds the agent's status hash.
func inSync(src *sourceSide, agent *agentSide) (bool, string) {
	sw := src.store.list(agent.cluster, "")
	aw := agent.store.list("", src.id)
	state := fmt.Sprintf("source=%s agent=%s", summary(sw), summary(aw))
	if len(sw) != len(aw) {
		return false, state
	}
	for i := range sw {
		s, a := sw[i], aw[i]
		if s.UID != a.UID || s.Version != a.Version || s.Spec != a.Spec || s.Deleting != nil {
			return false, state
		}
		sh, _ := ocmStatusHash(s)
		ah, _ := ocmStatusHash(a)
		if s.Status == nil || sh != ah || s.WireStatusHash != sh {
			return false, state
		}
	}
	return true, state
}

func summary(ws []*Widget) string {
	var s []string
	for _, w := range ws {
		h, _ := ocmStatusHash(w)
		st := "-"
		if w.Status != nil {
			st = fmt.Sprintf("%s/%d", w.Status.Phase, w.Status.ObservedVersion)
		}
		del := ""
		if w.Deleting != nil {
			del = "(deleting)"
		}
		s = append(s, fmt.Sprintf("%s@%d%s[%s %.8s wire=%.8s]", w.UID, w.Version, del, st, h, w.WireStatusHash))
	}
	return "{" + strings.Join(s, ", ") + "}"
}
