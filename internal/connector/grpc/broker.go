package grpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// BrokerConfig makes a grpc source an open-cluster-management CloudEvents
// broker: Subscribe streams spec events to agents (by cluster) and status
// events to sources, with heartbeats, and the source answers spec resync
// requests from the latest spec it has seen of each object.
type BrokerConfig struct {
	// Enabled turns the broker on. Published events must then have an
	// OCM event type (<group>.<version>.<resource>.<spec|status>.<action>).
	Enabled bool `json:"enabled,omitempty"`
	// HeartbeatInterval is how often a Subscribe stream gets a heartbeat
	// event. Default 10s, at least 10s.
	HeartbeatInterval spec.Duration `json:"heartbeat_interval,omitempty"`
	// DisableHeartbeat sends no heartbeats.
	DisableHeartbeat bool `json:"disable_heartbeat,omitempty"`
	// TombstoneTTL is how long a deleted object is still answered as
	// deleted in spec resyncs. Default 24h.
	TombstoneTTL spec.Duration `json:"tombstone_ttl,omitempty"`
}

// minHeartbeat is the shortest heartbeat interval the config accepts;
// tests lower it.
var minHeartbeat = 10 * time.Second

func (c *BrokerConfig) defaults() {
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = spec.Duration(10 * time.Second)
	}
	if c.TombstoneTTL == 0 {
		c.TombstoneTTL = spec.Duration(24 * time.Hour)
	}
}

func (c *BrokerConfig) validate(p spec.Problems) {
	if !c.DisableHeartbeat && c.HeartbeatInterval.D() < minHeartbeat {
		p.AddAt("heartbeat_interval", "must be at least %s (or set disable_heartbeat)", minHeartbeat)
	}
	if c.TombstoneTTL.D() < 0 {
		p.AddAt("tombstone_ttl", "must not be negative")
	}
}

// heartbeat is the event a broker sends on every stream at each interval.
func heartbeat() *pb.CloudEvent {
	return &pb.CloudEvent{SpecVersion: "1.0", Id: uuid.NewString(), Type: cloudsync.HeartbeatType}
}

// brokerSub is what a broker subscription selects.
type brokerSub struct {
	dt      cloudsync.DataType
	cluster string // agents: their cluster; "" for sources
	source  string // sources: their id; agents: a source filter or ""
}

// parseSubscription checks a Subscribe request in broker mode: a
// parseable data type and a cluster name (agents) or a source (sources).
func parseSubscription(req *cepb.SubscriptionRequest) (*brokerSub, error) {
	dt, err := cloudsync.ParseDataType(req.GetDataType())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid subscription request: data_type: %v", err)
	}
	if req.GetClusterName() == "" && req.GetSource() == "" {
		return nil, status.Error(codes.InvalidArgument, "invalid subscription request: cluster_name is required (agents), or source (sources)")
	}
	return &brokerSub{dt: dt, cluster: req.GetClusterName(), source: req.GetSource()}, nil
}

// matches says whether a broker subscriber gets e: an agent (cluster set)
// gets the spec events of its cluster and the status resync requests of
// its cluster or of all clusters; a source gets status events whose
// originalsource is it or "" (all sources).
func (b *brokerSub) matches(e *ce.Event) bool {
	et, err := cloudsync.ParseEventType(e.Type())
	if err != nil || et.DataType != b.dt {
		return false
	}
	cluster := cloudsync.ExtString(e, cloudsync.ExtClusterName)
	if b.cluster != "" {
		if b.source != "" && e.Source() != b.source {
			return false
		}
		switch {
		case et.SubResource == cloudsync.SubResourceSpec && et.Action != cloudsync.ResyncRequest:
			return cluster == b.cluster
		case et.SubResource == cloudsync.SubResourceStatus && et.Action == cloudsync.ResyncRequest:
			return cluster == b.cluster || cluster == cloudsync.ClusterAll
		}
		return false
	}
	if et.SubResource != cloudsync.SubResourceStatus || et.Action == cloudsync.ResyncRequest {
		return false
	}
	orig := cloudsync.ExtString(e, cloudsync.ExtOriginalSource)
	return orig == b.source || orig == cloudsync.SourceAll
}

// brokerState is the broker side of a source: the kept specs.
type brokerState struct {
	specs *specStore
}

func newBrokerState(name string, cfg *BrokerConfig, sched jobs.Scheduler) *brokerState {
	var st jobs.Store
	if sched != nil {
		st = sched.State("grpc-broker-" + name)
	} else {
		st = jobs.NewMemStore()
	}
	return &brokerState{specs: newSpecStore(st, cfg.TombstoneTTL.D())}
}

// answerSpecResync answers a spec resync request (spec §3A): the kept
// objects of the cluster that are deleted or newer than the agent's
// version, and a deletion for every id the agent listed that is not kept.
// Nothing when no object of the cluster is kept.
func (s *Source) answerSpecResync(ctx context.Context, dt cloudsync.DataType, req *ce.Event) ([]*ce.Event, error) {
	var versions cloudsync.ResourceVersionList
	if len(req.Data()) > 0 {
		if err := json.Unmarshal(req.Data(), &versions); err != nil {
			return nil, fmt.Errorf("spec resync request data: %w", err)
		}
	}
	cluster := cloudsync.ExtString(req, cloudsync.ExtClusterName)
	orig := cloudsync.ExtString(req, cloudsync.ExtOriginalSource)
	objs, err := s.broker.specs.list(ctx, dt, cluster, orig)
	if err != nil {
		return nil, err
	}
	send, gone := cloudsync.PlanSpecResync(objs, versions)
	respType := cloudsync.EventType{DataType: dt, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.ResyncResponse}.String()
	var out []*ce.Event
	for _, o := range send {
		e := o.e.Clone()
		e.SetID(uuid.NewString())
		e.SetType(respType)
		e.SetTime(time.Now())
		out = append(out, &e)
	}
	from := orig
	if from == "" {
		from = s.name
	}
	for _, g := range gone {
		v := g.ResourceVersion
		e := cloudsync.NewEvent(from, cloudsync.EventType{DataType: dt, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.ResyncResponse},
			cloudsync.EventOptions{ClusterName: cluster, OriginalSource: orig, ResourceID: g.ResourceID, ResourceVersion: &v, DeletionTimestamp: time.Now()})
		out = append(out, &e)
	}
	return out, nil
}

// publishBroker is Publish in broker mode, after the event was read.
func (s *Source) publishBroker(ctx context.Context, e *ce.Event) error {
	et, err := cloudsync.ParseEventType(e.Type())
	if err != nil {
		s.in.WithLabelValues("invalid").Inc()
		s.rejected.WithLabelValues("invalid").Inc()
		return status.Errorf(codes.InvalidArgument, "failed to parse cloud event type %s: %v", e.Type(), err)
	}
	if et.SubResource == cloudsync.SubResourceSpec && et.Action == cloudsync.ResyncRequest {
		resp, err := s.answerSpecResync(ctx, et.DataType, e)
		if err != nil {
			s.in.WithLabelValues("error").Inc()
			return status.Errorf(codes.FailedPrecondition, "failed to respond resync spec request: %v", err)
		}
		s.in.WithLabelValues("ok").Inc()
		s.fanout(resp)
		return nil
	}
	if err := s.ingest(ctx, e); err != nil {
		return err
	}
	if et.SubResource == cloudsync.SubResourceSpec && et.Action != cloudsync.ResyncRequest {
		if err := s.broker.specs.record(ctx, et.DataType, e); err != nil {
			s.log.Warn("cannot keep the spec for resyncs", "id", e.ID(), "err", err)
			return status.Error(codes.Unavailable, "the spec was stored but not kept for resyncs; publish it again")
		}
	}
	s.fanout([]*ce.Event{e})
	return nil
}
