package grpc

import (
	"strings"
	"sync"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
	csgrpc "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
)

// tap hands the events a source stored to its Subscribe streams, at most
// once: a subscriber whose buffer is full misses the event.
type tap struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	req    *cepb.SubscriptionRequest
	broker *brokerSub // broker mode: what the broker routes to it
	ch     chan *pb.CloudEvent
	// lost is closed when a broker subscriber's buffer overflowed: its
	// stream ends so that the client subscribes again and resyncs.
	lost chan struct{}
}

// matches applies the request's filters: an empty field matches all.
// In broker mode the broker's routing applies.
func (s *subscriber) matches(e *ce.Event) bool {
	if s.broker != nil {
		return s.broker.matches(e)
	}
	if s.req.GetSource() != "" && e.Source() != s.req.GetSource() {
		return false
	}
	if s.req.GetDataType() != "" && !strings.HasPrefix(e.Type(), s.req.GetDataType()) {
		return false
	}
	if s.req.GetClusterName() != "" {
		if v, _ := ebevent.Attr(e, "clustername"); v != s.req.GetClusterName() {
			return false
		}
	}
	return true
}

// add registers a subscriber; nil once the tap is closed.
func (t *tap) add(req *cepb.SubscriptionRequest, bs *brokerSub, buffer int) *subscriber {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	if t.subs == nil {
		t.subs = map[*subscriber]struct{}{}
	}
	s := &subscriber{req: req, broker: bs, ch: make(chan *pb.CloudEvent, buffer), lost: make(chan struct{})}
	t.subs[s] = struct{}{}
	return s
}

// remove unregisters s (its channel stays open: remove is called by the
// stream handler itself).
func (t *tap) remove(s *subscriber) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.subs, s)
}

// publish offers events to every subscriber; it returns how many copies
// were handed over and how many were dropped.
func (t *tap) publish(events []*ce.Event) (sent, dropped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.subs) == 0 {
		return 0, 0
	}
	for _, e := range events {
		var p *pb.CloudEvent
		for s := range t.subs {
			if !s.matches(e) {
				continue
			}
			if p == nil {
				var err error
				if p, err = ToProto(e); err != nil {
					break
				}
				if s.broker != nil {
					csgrpc.ToOCMAttributes(p)
				}
			}
			select {
			case s.ch <- p:
				sent++
			default:
				dropped++
				if s.broker != nil {
					// The stream ends; remove keeps the channel open.
					close(s.lost)
					delete(t.subs, s)
				}
			}
		}
	}
	return sent, dropped
}

// close ends every stream: their channels are closed.
func (t *tap) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for s := range t.subs {
		close(s.ch)
		delete(t.subs, s)
	}
}
