// Package cloudsync is a Go SDK of source and agent clients that keep
// resources in sync over CloudEvents and resync by version and status
// hash after every (re)connect. It is wire-compatible with the generic
// CloudEvents clients of open-cluster-management (OCM): the same event
// types, extensions, resync payloads and (in the transport packages)
// topics.
//
// A source (a hub, a controller) publishes resource specs; an agent (a
// managed cluster) publishes their status. After a (re)subscribe the agent
// asks the source for the specs newer than the versions it holds, and the
// source asks the agents for the statuses whose hash differs from its own.
//
// The clients are generic over the resource type T: a Codec[T] turns a T
// into an event and back, a Lister[T] lists the objects a side holds, and a
// StatusHashFunc[T] hashes a status (both sides must use the same one).
// The bytes travel through a Transport: see the mqtt sub-package, and
// memtransport for tests.
package cloudsync

import (
	"fmt"
	"strings"
)

// HeartbeatType is the type of the heartbeat events an OCM gRPC broker
// sends on a Subscribe stream. Clients drop them.
const HeartbeatType = "io.open-cluster-management.cloudevents.heartbeat"

// Well-known data types of OCM.
const (
	// ManifestBundleDataType is the data type of OCM ManifestWorks
	// (payload: a ManifestBundle).
	ManifestBundleDataType = "io.open-cluster-management.works.v1alpha1.manifestbundles"
	// ManagedClusterDataType is the data type of OCM ManagedClusters.
	ManagedClusterDataType = "cluster.open-cluster-management.io.v1.managedclusters"
)

// ClusterAll and SourceAll are the values of the clustername and
// originalsource extensions that mean "every cluster" and "every source".
const (
	ClusterAll = ""
	SourceAll  = ""
)

// The CloudEvents extensions of the protocol.
const (
	ExtClusterName       = "clustername"
	ExtOriginalSource    = "originalsource"
	ExtResourceID        = "resourceid"
	ExtResourceVersion   = "resourceversion"
	ExtSequenceID        = "sequenceid"
	ExtDeletionTimestamp = "deletiontimestamp"
	ExtStatusHash        = "statushash"
	// ExtWorkMeta carries the JSON of a ManifestWork's ObjectMeta (OCM works).
	ExtWorkMeta = "metadata"
)

// SubResource is the part of a resource an event is about.
type SubResource string

// The subresources.
const (
	SubResourceSpec   SubResource = "spec"
	SubResourceStatus SubResource = "status"
)

// Action is what an event asks for or answers.
type Action string

// The actions.
const (
	CreateRequest  Action = "create_request"
	UpdateRequest  Action = "update_request"
	DeleteRequest  Action = "delete_request"
	ResyncRequest  Action = "resync_request"
	ResyncResponse Action = "resync_response"
	WatchRequest   Action = "watch_request"
)

// ResourceAction is what a received event means for the receiver's copy
// of an object; it is passed to the Subscribe handler.
type ResourceAction string

// The resource actions (the same strings as OCM's).
const (
	Added          ResourceAction = "ADDED"
	Modified       ResourceAction = "MODIFIED"
	StatusModified ResourceAction = "STATUSMODIFIED"
	Deleted        ResourceAction = "DELETED"
)

// DataType is the <group>.<version>.<resource> of an event type. The group
// may contain dots.
type DataType struct {
	Group, Version, Resource string
}

// String returns <group>.<version>.<resource>.
func (d DataType) String() string {
	return d.Group + "." + d.Version + "." + d.Resource
}

// ParseDataType parses <group>.<version>.<resource>: at least three
// dot-separated parts, the last two are the version and the resource.
func ParseDataType(s string) (DataType, error) {
	parts := strings.Split(s, ".")
	n := len(parts)
	if n < 3 {
		return DataType{}, fmt.Errorf("cloudsync: data type %q: want <group>.<version>.<resource>", s)
	}
	return DataType{Group: strings.Join(parts[:n-2], "."), Version: parts[n-2], Resource: parts[n-1]}, nil
}

// MustParseDataType is ParseDataType that panics on an error, for
// constants.
func MustParseDataType(s string) DataType {
	d, err := ParseDataType(s)
	if err != nil {
		panic(err)
	}
	return d
}

// EventType is <group>.<version>.<resource>.<subresource>.<action>.
type EventType struct {
	DataType
	SubResource SubResource
	Action      Action
}

// String returns the CloudEvents type.
func (t EventType) String() string {
	return t.DataType.String() + "." + string(t.SubResource) + "." + string(t.Action)
}

// ParseEventType parses a CloudEvents type as OCM does: at least five
// dot-separated parts; the last is the action, the one before must be
// spec or status, then the resource and the version; the rest is the
// group. The action is not checked against the known ones.
func ParseEventType(s string) (EventType, error) {
	parts := strings.Split(s, ".")
	n := len(parts)
	if n < 5 {
		return EventType{}, fmt.Errorf("cloudsync: event type %q: want <group>.<version>.<resource>.<subresource>.<action>", s)
	}
	sub := SubResource(parts[n-2])
	if sub != SubResourceSpec && sub != SubResourceStatus {
		return EventType{}, fmt.Errorf("cloudsync: event type %q: subresource %q is neither spec nor status", s, sub)
	}
	return EventType{
		DataType:    DataType{Group: strings.Join(parts[:n-4], "."), Version: parts[n-4], Resource: parts[n-3]},
		SubResource: sub,
		Action:      Action(parts[n-1]),
	}, nil
}

// Role says which side of the protocol a client or transport is.
type Role int

// The roles.
const (
	RoleSource Role = iota + 1
	RoleAgent
)

// String returns "source" or "agent".
func (r Role) String() string {
	switch r {
	case RoleSource:
		return "source"
	case RoleAgent:
		return "agent"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}
