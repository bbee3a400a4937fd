// Package oran serves the O-RAN O-Cloud Notification API the way Red
// Hat's cloud-event-proxy does (REST API v1 and v2), so that a consumer
// written for cloud-event-proxy works unchanged: subscriptions and
// publishers, the subscription handshakes, CurrentState, the status ping
// and /create/event. A subscription runs as a rule with one http target,
// like a subscription of the CloudEvents Subscriptions API.
package oran

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// API versions, as in the paths (/api/ocloudNotifications/v1/, /v2/).
const (
	V1 = "v1"
	V2 = "v2"
)

// Kinds of PubSub.
const (
	KindSubscription = "subscription"
	KindPublisher    = "publisher"
)

// RulePrefix starts the names of the rule and target an O-RAN
// subscription runs as.
const RulePrefix = "oran-"

// PubSub is an O-RAN subscription or publisher (sdk-go pkg/pubsub
// PubSub, SubscriptionInfo in v2).
type PubSub struct {
	// Kind is KindSubscription or KindPublisher (not in the JSON).
	Kind string
	// Version is the API version that created it (V1 or V2; "" is V2): it
	// decides the JSON keys it is shown with and the event mapping.
	Version     string
	ID          string // id / SubscriptionId
	EndpointURI string // endpointUri / EndpointUri
	URILocation string // uriLocation / UriLocation
	Resource    string // resource / ResourceAddress
}

// ClientID is the v2 client of an endpoint: one per endpoint URI.
func ClientID(endpointURI string) string {
	return uuid.NewMD5(uuid.NameSpaceURL, []byte(endpointURI)).String()
}

// ClientID returns the client of p's endpoint.
func (p *PubSub) ClientID() string { return ClientID(p.EndpointURI) }

// UnmarshalJSON accepts both key sets (v1 resource, endpointUri, id,
// uriLocation; v2 ResourceAddress, EndpointUri, SubscriptionId,
// UriLocation), like sdk-go's 2024 unmarshaller did.
func (p *PubSub) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("oran: a subscription must be a JSON object")
	}
	pick := func(dst *string, keys ...string) error {
		for _, k := range keys {
			raw, ok := m[k]
			if !ok || string(raw) == "null" {
				continue
			}
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("oran: %s must be a string", k)
			}
			return nil
		}
		return nil
	}
	for _, f := range []struct {
		dst  *string
		keys []string
	}{
		{&p.ID, []string{"SubscriptionId", "id", "subscriptionId"}},
		{&p.EndpointURI, []string{"EndpointUri", "endpointUri"}},
		{&p.URILocation, []string{"UriLocation", "uriLocation"}},
		{&p.Resource, []string{"ResourceAddress", "resource", "resourceAddress"}},
	} {
		if err := pick(f.dst, f.keys...); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON writes the keys of p's version, in cloud-event-proxy's
// order: resource, endpoint, then id and uriLocation when set.
func (p PubSub) MarshalJSON() ([]byte, error) {
	keys := [4]string{"ResourceAddress", "EndpointUri", "SubscriptionId", "UriLocation"}
	if p.Version == V1 {
		keys = [4]string{"resource", "endpointUri", "id", "uriLocation"}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	write := func(k, v string, always bool) {
		if v == "" && !always {
			return
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	write(keys[0], p.Resource, true)
	write(keys[1], p.EndpointURI, p.Version == V1 || p.Kind != KindPublisher)
	write(keys[2], p.ID, false)
	write(keys[3], p.URILocation, false)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// stored is a PubSub as the bridge keeps it in its resource store.
type stored struct {
	Version     string `json:"version"`
	Resource    string `json:"resource"`
	EndpointURI string `json:"endpointUri,omitempty"`
	URILocation string `json:"uriLocation,omitempty"`
	ClientID    string `json:"clientID,omitempty"`
}

// kindOf is the resource kind of a PubSub kind.
func kindOf(k string) resource.Kind {
	if k == KindPublisher {
		return resource.KindOranPublisher
	}
	return resource.KindOranSubscription
}

// Object returns p as a store object (origin api).
func (p *PubSub) Object() (*resource.Object, error) {
	s := stored{Version: p.Version, Resource: p.Resource, EndpointURI: p.EndpointURI, URILocation: p.URILocation}
	if s.Version == "" {
		s.Version = V2
	}
	if p.EndpointURI != "" {
		s.ClientID = p.ClientID()
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return &resource.Object{Kind: kindOf(p.Kind), Name: p.ID, Origin: resource.OriginAPI, Spec: raw}, nil
}

// FromObject reads a PubSub from a store object.
func FromObject(o *resource.Object) (*PubSub, error) {
	var s stored
	if err := json.Unmarshal(o.Spec, &s); err != nil {
		return nil, fmt.Errorf("oran: %s: %w", o.Key(), err)
	}
	kind := KindSubscription
	if o.Kind == resource.KindOranPublisher {
		kind = KindPublisher
	}
	return &PubSub{Kind: kind, Version: s.Version, ID: o.Name, EndpointURI: s.EndpointURI, URILocation: s.URILocation, Resource: s.Resource}, nil
}

// RuleName is the name of the rule and target subscription id runs as.
func RuleName(id string) string { return RulePrefix + id }

// Resources returns the target and the rule (store objects, with o's
// origin and revision) an O-RAN subscription runs as: an http target that
// POSTs the event as CloudEvent JSON with Content-Type application/json,
// and a rule whose filter is the subscription's resource address (the
// events' source). allowPrivate is api.allow_private_addresses.
func Resources(o *resource.Object, allowPrivate bool) (target, rule *resource.Object, err error) {
	p, err := FromObject(o)
	if err != nil {
		return nil, nil, err
	}
	if p.EndpointURI == "" {
		return nil, nil, fmt.Errorf("oran: subscription %s has no endpointUri", p.ID)
	}
	labels := map[string]string{"oran-subscription": p.ID, "oran-client": p.ClientID()}
	var tspec []byte
	if isAMQP(p.EndpointURI) {
		// An amqp:// or amqps:// endpoint (cloud-event-proxy's first
		// transport) gets the same CloudEvent JSON through an amqp1 target.
		tspec, err = subscription.AMQPTargetSpec(subscription.AMQPTarget{
			Sink: p.EndpointURI, Mode: "structured",
			Description: "endpoint of O-RAN subscription " + p.ID, Labels: labels,
		})
	} else {
		tspec, err = json.Marshal(map[string]any{
			"type": "http", "url": p.EndpointURI, "method": "POST", "mode": "structured",
			"headers":       map[string]string{"Content-Type": "application/json"},
			"block_private": !allowPrivate,
			"description":   "endpoint of O-RAN subscription " + p.ID,
			"labels":        labels,
		})
	}
	if err != nil {
		return nil, nil, err
	}
	rs := map[string]any{
		"description": "O-RAN subscription " + p.ID + " to " + p.Resource,
		"labels":      labels,
		"targets":     []string{RuleName(p.ID)},
		"filter":      map[string]any{"filters": []any{map[string]any{"exact": map[string]any{"source": p.Resource}}}},
	}
	if p.Version == V1 {
		// v1 subscribers get cloud-event-proxy's v1 CloudEvent: 0.3.
		rs["transform"] = map[string]any{"jq": V1Transform, "timeout": "2s"}
	}
	rspec, err := json.Marshal(rs)
	if err != nil {
		return nil, nil, err
	}
	name := RuleName(p.ID)
	target = &resource.Object{Kind: resource.KindTarget, Name: name, Origin: o.Origin, Spec: tspec, Revision: o.Revision}
	rule = &resource.Object{Kind: resource.KindRule, Name: name, Origin: o.Origin, Spec: rspec, Revision: o.Revision, Paused: o.Paused}
	return target, rule, nil
}

// V1Transform is the transform (jq, over the JSON form of the event) of
// the rule of a v1 subscription: it turns the bus's CloudEvent 1.0 into
// the one cloud-event-proxy's v1 API sends (sdk-go NewCloudEvent):
// specversion 0.3, source the resource address (the rule's filter makes
// it the subscription's), subject the cloud native event's source (the
// CloudEvent's source when it has no subject), datacontenttype
// application/json for a data object, whose values get the v1 keys
// (resource, dataType, valueType). 1.0's dataschema and data_base64 become
// 0.3's schemaurl and base64 datacontentencoding.
const V1Transform = `.specversion = "0.3"
| .subject = (.subject // .source)
| if has("dataschema") then .schemaurl = .dataschema | del(.dataschema) else . end
| if has("data_base64") then .data = .data_base64 | .datacontentencoding = "base64" | del(.data_base64) else . end
| if (.data | type) == "object" then
    .datacontenttype = "application/json"
    | if (.data.values | type) == "array" then
        .data.values |= map(if type == "object"
          then with_entries(.key |= ({"ResourceAddress": "resource", "data_type": "dataType", "value_type": "valueType"}[.] // .))
          else . end)
      else . end
  else . end`

// IsRuleName reports whether a rule or target name is an O-RAN
// subscription's, and returns the subscription id.
func IsRuleName(name string) (string, bool) {
	return strings.CutPrefix(name, RulePrefix)
}

// isAMQP reports whether an endpoint is an AMQP 1.0 address
// (amqp://host:port/address or amqps://).
func isAMQP(endpoint string) bool {
	return strings.HasPrefix(endpoint, "amqp://") || strings.HasPrefix(endpoint, "amqps://")
}
