package resource

import (
	"encoding/json"
	"time"
)

// Kind is a type of resource.
type Kind string

// The kinds of resources the bridge runs.
const (
	KindSource       Kind = "source"
	KindTarget       Kind = "target"
	KindRule         Kind = "rule"
	KindSubscription Kind = "subscription"
)

// Kinds lists every kind, in the order they are started.
var Kinds = []Kind{KindTarget, KindRule, KindSubscription, KindSource}

// Plural is the kind's name in URLs (/v1/sources).
func (k Kind) Plural() string { return string(k) + "s" }

// Origins of a resource.
const (
	OriginFile = "file" // from the config file: read-only through the API
	OriginAPI  = "api"  // created through the API
)

// Object is a stored resource: its spec as JSON (secret references left
// unexpanded) and what the store knows about it.
type Object struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Origin string `json:"origin"`
	// File is the config file of a resource with origin "file".
	File string          `json:"file,omitempty"`
	Spec json.RawMessage `json:"spec"`
	// Paused is set on a rule whose deliveries are paused (its events
	// wait on disk). It is operational state, so it may be set on a
	// resource from the config file too.
	Paused bool `json:"paused,omitempty"`
	// Created and Updated are set by the store.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Revision is the store's revision of this version (the ETag).
	Revision uint64 `json:"revision"`

	// Decoded, never stored, is a rule the config file's parse already
	// decoded, expanded, defaulted and validated from exactly Spec (its
	// filter compiled): the controller's first reconcile takes it rather
	// than doing all of that again (10,000 rules at start-up).
	Decoded *Rule `json:"-"`
}

// Key is the object's key in the store: "<kind>.<name>".
func (o *Object) Key() string { return Key(o.Kind, o.Name) }

// Key is the store key of a resource.
func Key(k Kind, name string) string { return string(k) + "." + name }

// Kinds of the O-RAN O-Cloud Notification API (package oran). They are
// not in Kinds: the resources API does not serve them; the controller
// runs each subscription as a rule with one target, like KindSubscription.
const (
	KindOranSubscription Kind = "oran-subscription"
	KindOranPublisher    Kind = "oran-publisher"
)
