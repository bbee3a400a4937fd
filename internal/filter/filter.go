// Package filter compiles rule filters and matches events against all rules
// at once.
//
// A rule's filter (Spec) is one of: an Amazon EventBridge event pattern, a
// list of CloudEvents Subscriptions API dialect filters, or a CESQL
// expression. Filters compile once, when a rule is saved; compile errors
// carry the path inside the filter and the reason. The router never looks at
// filters one by one: it compiles every rule into one Matcher and asks it,
// once per event, which rules match.
package filter

import (
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Filter decides whether one event matches. Implementations are safe for
// concurrent use and do not modify the input.
type Filter interface {
	Match(in *Input) bool
}

// Input is one event being matched. It computes the event's JSON form at
// most once, and only if a filter needs it. An Input is used by one
// goroutine at a time.
type Input struct {
	Event *ce.Event

	once sync.Once
	form map[string]any
	// attrs is the form without data, for matchers that need no data.
	attrs map[string]any
}

// NewInput wraps an event for matching.
func NewInput(e *ce.Event) *Input { return &Input{Event: e} }

// Form returns the event's JSON form (see event.Form), computed once.
func (in *Input) Form() map[string]any {
	in.once.Do(func() { in.form = ebevent.Form(in.Event) })
	return in.form
}

// FormAttributes returns the JSON form without data; it is the full form
// when that was already computed.
func (in *Input) FormAttributes() map[string]any {
	if in.form != nil {
		return in.form
	}
	if in.attrs == nil {
		in.attrs = ebevent.FormAttributesInto(attrMaps.Get().(map[string]any), in.Event)
	}
	return in.attrs
}

// attrMaps are attribute forms that Release gave back.
var attrMaps = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// Release gives in's attribute form back for reuse by a later Input, when
// the caller is done matching: neither in nor a map it returned may be
// used after. (The full form, which transforms may keep, is not reused.)
func (in *Input) Release() {
	if in.attrs != nil && len(in.attrs) <= 32 {
		clear(in.attrs)
		attrMaps.Put(in.attrs)
	}
	in.attrs = nil
}

// Attr returns the canonical string value of a context attribute or
// extension, and whether the event has it.
func (in *Input) Attr(name string) (string, bool) {
	return ebevent.Attr(in.Event, name)
}

// FilterFunc adapts a function to Filter.
type FilterFunc func(in *Input) bool

// Match calls f.
func (f FilterFunc) Match(in *Input) bool { return f(in) }

// matchAll is the filter of a rule without one.
var matchAll = FilterFunc(func(*Input) bool { return true })

var _ Filter = FilterFunc(nil)
