package interop

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cetypes "github.com/cloudevents/sdk-go/v2/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubetypes "k8s.io/apimachinery/pkg/types"

	"open-cluster-management.io/sdk-go/pkg/cloudevents/clients/statushash"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// widgetDataType is the CloudEvents data type of the test objects: events
// are "io.eventbridge.interop.v1.widgets.<spec|status>.<action>".
var widgetDataType = types.CloudEventsDataType{Group: "io.eventbridge.interop", Version: "v1", Resource: "widgets"}

// Widget is the object both sides keep in sync: a source owns its spec and
// version, an agent reports its status.
type Widget struct {
	UID      string       `json:"uid"`
	Cluster  string       `json:"cluster"`
	Source   string       `json:"source"`
	Version  int64        `json:"version"`
	Deleting *metav1.Time `json:"deleting,omitempty"`
	Spec     WidgetSpec   `json:"spec"`
	// Status is set by the agent. Its JSON field order is not sorted on
	// purpose: OCM hashes the status through an unstructured map (sorted
	// keys), so a hash over the struct's own field order would differ.
	Status *WidgetStatus `json:"status,omitempty"`

	// WireStatusHash is the statushash extension of the event the widget was
	// decoded from (status events only).
	WireStatusHash string `json:"-"`
}

type WidgetSpec struct {
	Color string `json:"color"`
	Size  int64  `json:"size"`
}

type WidgetStatus struct {
	Phase           string `json:"phase"`
	ObservedVersion int64  `json:"observedVersion"`
	Message         string `json:"message,omitempty"`
}

func (w *Widget) GetUID() kubetypes.UID              { return kubetypes.UID(w.UID) }
func (w *Widget) GetResourceVersion() string         { return strconv.FormatInt(w.Version, 10) }
func (w *Widget) GetDeletionTimestamp() *metav1.Time { return w.Deleting }

func (w *Widget) clone() *Widget {
	c := *w
	if w.Status != nil {
		s := *w.Status
		c.Status = &s
	}
	if w.Deleting != nil {
		d := *w.Deleting
		c.Deleting = &d
	}
	return &c
}

// ocmStatusHash is OCM's own status hash function (clients/statushash):
// SHA-256 of the JSON of the status taken from the unstructured object.
func ocmStatusHash(w *Widget) (string, error) {
	if w.Status == nil {
		// OCM fails on objects without status; an empty status is what an
		// agent that did not report yet holds.
		return emptyStatusHash(), nil
	}
	return statushash.StatusHash(w)
}

func emptyStatusHash() string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte("{}")))
}

// probePrefix marks probe objects: the codecs record their arrival and fail
// to decode them, so no handler sees them. Tests publish probes until one
// arrives to know that a subscription is active.
const probePrefix = "probe-"

// probeLog records the probe ids a codec saw.
type probeLog struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *probeLog) add(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[id] = true
}

func (p *probeLog) has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[id]
}

// ocmWidgetCodec is a codec in the style of OCM's ManifestBundle codecs
// (clients/work/{source,agent}/codec), for both sides: spec events carry the
// spec, status events carry the status, the statushash and originalsource.
type ocmWidgetCodec struct {
	probes *probeLog
	wire   *wireLog
}

func (c *ocmWidgetCodec) EventDataType() types.CloudEventsDataType { return widgetDataType }

func (c *ocmWidgetCodec) Encode(source string, eventType types.CloudEventsType, w *Widget) (*cloudevents.Event, error) {
	if eventType.CloudEventsDataType != widgetDataType {
		return nil, fmt.Errorf("unsupported data type %s", eventType.CloudEventsDataType)
	}
	b := types.NewEventBuilder(source, eventType).
		WithResourceID(w.UID).
		WithResourceVersion(w.Version).
		WithClusterName(w.Cluster)
	switch eventType.SubResource {
	case types.SubResourceSpec:
		if w.Deleting != nil {
			evt := b.WithDeletionTimestamp(w.Deleting.Time).NewEvent()
			return &evt, nil
		}
		evt := b.NewEvent()
		if err := evt.SetData(cloudevents.ApplicationJSON, w.Spec); err != nil {
			return nil, err
		}
		return &evt, nil
	case types.SubResourceStatus:
		evt := b.WithOriginalSource(w.Source).NewEvent()
		hash, err := ocmStatusHash(w)
		if err != nil {
			return nil, err
		}
		evt.SetExtension(types.ExtensionStatusHash, hash)
		status := w.Status
		if status == nil {
			status = &WidgetStatus{}
		}
		if err := evt.SetData(cloudevents.ApplicationJSON, status); err != nil {
			return nil, err
		}
		return &evt, nil
	}
	return nil, fmt.Errorf("unsupported subresource %s", eventType.SubResource)
}

func (c *ocmWidgetCodec) Decode(evt *cloudevents.Event) (*Widget, error) {
	return decodeWidget(evt, c.probes, c.wire)
}

// decodeWidget reads a widget from an OCM-style event; shared by the codecs
// of both SDKs in these tests, so a difference on the wire shows up as a
// decode error or a wrong field.
func decodeWidget(evt *cloudevents.Event, probes *probeLog, wire *wireLog) (*Widget, error) {
	w, action, err := decodeWidgetEvent(evt, probes)
	if err == nil && wire != nil {
		wire.add(wireRecord{Action: action, UID: w.UID, Version: w.Version, Deleting: w.Deleting != nil, Hash: w.WireStatusHash})
	}
	return w, err
}

func decodeWidgetEvent(evt *cloudevents.Event, probes *probeLog) (*Widget, string, error) {
	w, err := decodeWidgetData(evt, probes)
	if err != nil {
		return nil, "", err
	}
	et, _ := types.ParseCloudEventsType(evt.Type())
	return w, string(et.Action), nil
}

func decodeWidgetData(evt *cloudevents.Event, probes *probeLog) (*Widget, error) {
	et, err := types.ParseCloudEventsType(evt.Type())
	if err != nil {
		return nil, err
	}
	if et.CloudEventsDataType != widgetDataType {
		return nil, fmt.Errorf("unsupported data type %s", et.CloudEventsDataType)
	}
	ext := evt.Extensions()
	id, err := cetypes.ToString(ext[types.ExtensionResourceID])
	if err != nil {
		return nil, fmt.Errorf("resourceid: %v", err)
	}
	if strings.HasPrefix(id, probePrefix) {
		if probes != nil {
			probes.add(id)
		}
		return nil, fmt.Errorf("probe %s", id)
	}
	version, err := cetypes.ToInteger(ext[types.ExtensionResourceVersion])
	if err != nil {
		return nil, fmt.Errorf("resourceversion: %v", err)
	}
	cluster, err := cetypes.ToString(ext[types.ExtensionClusterName])
	if err != nil {
		return nil, fmt.Errorf("clustername: %v", err)
	}
	w := &Widget{UID: id, Version: int64(version), Cluster: cluster}
	if et.SubResource == types.SubResourceSpec {
		w.Source = evt.Source()
		if v, ok := ext[types.ExtensionDeletionTimestamp]; ok {
			ts, err := cetypes.ToTime(v)
			if err != nil {
				return nil, fmt.Errorf("deletiontimestamp: %v", err)
			}
			w.Deleting = &metav1.Time{Time: ts}
			return w, nil
		}
		if err := json.Unmarshal(evt.Data(), &w.Spec); err != nil {
			return nil, fmt.Errorf("spec data: %v", err)
		}
		return w, nil
	}
	if w.Source, err = cetypes.ToString(ext[types.ExtensionOriginalSource]); err != nil {
		return nil, fmt.Errorf("originalsource: %v", err)
	}
	if v, ok := ext[types.ExtensionStatusHash]; ok {
		if w.WireStatusHash, err = cetypes.ToString(v); err != nil {
			return nil, fmt.Errorf("statushash: %v", err)
		}
	}
	w.Status = &WidgetStatus{}
	if err := json.Unmarshal(evt.Data(), w.Status); err != nil {
		return nil, fmt.Errorf("status data: %v", err)
	}
	return w, nil
}

// store is a side's set of widgets, keyed by UID; it is the lister of both
// SDKs.
type store struct {
	mu    sync.Mutex
	items map[string]*Widget
}

func newStore() *store { return &store{items: map[string]*Widget{}} }

func (s *store) List(opts types.ListOptions) ([]*Widget, error) {
	return s.list(opts.ClusterName, opts.Source), nil
}

func (s *store) list(cluster, source string) []*Widget {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Widget
	for _, w := range s.items {
		if cluster != "" && w.Cluster != cluster {
			continue
		}
		if source != "" && w.Source != source {
			continue
		}
		out = append(out, w.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}

func (s *store) put(w *Widget) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[w.UID] = w.clone()
}

func (s *store) get(uid string) (*Widget, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.items[uid]
	if !ok {
		return nil, false
	}
	return w.clone(), true
}

func (s *store) remove(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, uid)
}

// update changes a stored widget under the lock.
func (s *store) update(uid string, fn func(w *Widget)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.items[uid]
	if ok {
		fn(w)
	}
	return ok
}

// applied is the status an agent reports for a spec it applied.
func applied(w *Widget) *WidgetStatus {
	return &WidgetStatus{Phase: "Applied", ObservedVersion: w.Version, Message: fmt.Sprintf("%s/%d", w.Spec.Color, w.Spec.Size)}
}

// deadline helpers ----------------------------------------------------------

const waitFor = 60 * time.Second
