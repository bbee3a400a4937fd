// Package resource holds the specs of the resources the bridge runs
// (sources, targets, rules) and their validation. Specs come from the
// config file or from the API and are validated the same way.
package resource

import (
	"errors"

	"github.com/eventbridge-dev/eventbridge/internal/delivery/policy"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/transform"
)

// Rule is a rule's spec: which events, how to change them, where to send
// them, and how hard to try.
type Rule struct {
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Sources restricts the rule to events from these sources; empty = all.
	Sources []string `json:"sources,omitempty"`
	// Filter selects events; empty matches every event.
	Filter filter.Spec `json:"filter,omitempty"`
	// Transform rewrites matched events before delivery.
	Transform transform.Spec `json:"transform,omitempty"`
	// Targets receive the events (names of targets).
	Targets []string `json:"targets"`
	// Delivery is the retry and concurrency policy.
	Delivery policy.Policy `json:"delivery,omitempty"`
	// Ordering, when set, delivers the events of one key in order.
	Ordering *Ordering `json:"ordering,omitempty"`
	// RuleTiming is dedup, delay and max_delay (rule_timing.go).
	RuleTiming `yaml:",inline"`
}

// Defaults fills unset fields.
func (r *Rule) Defaults() { r.Delivery.Defaults(); r.RuleTiming.defaults() }

// Validate reports problems under p, compiling the filter and transform.
// The compiled filter is kept in r.Filter (filter.Prepare), so that the
// router's matcher and a second Validate do not compile it again (10,000
// rules at start-up). Whether the named sources and targets exist is
// checked by the caller, which knows them.
func (r *Rule) Validate(p spec.Problems) {
	if len(r.Targets) == 0 {
		p.AddAt("targets", "a rule needs at least one target")
	}
	seen := map[string]bool{}
	for i, t := range r.Targets {
		if seen[t] {
			p.At("targets").Index(i).Add("target %q is listed twice", t)
		}
		seen[t] = true
	}
	if f, err := filter.Prepare(r.Filter); err != nil {
		var fes filter.Errors
		if errors.As(err, &fes) {
			for _, fe := range fes {
				p.At("filter").AddAt(fe.Path, "%s", fe.Reason)
			}
		} else {
			p.AddAt("filter", "%v", err)
		}
	} else {
		r.Filter = f
	}
	if _, err := transform.Compile(r.Transform); err != nil {
		p.AddAt("transform", "%v", err)
	}
	r.Delivery.Validate(p.At("delivery"))
	if r.Ordering != nil {
		r.Ordering.Validate(p.At("ordering"))
	}
	r.RuleTiming.validate(p)
}
