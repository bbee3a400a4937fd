// Package pattern implements the Amazon EventBridge event-pattern language:
// compiling a pattern given as JSON, matching it against an event in its JSON
// form, and matching an event against many patterns at once.
//
// An event is any JSON object decoded by encoding/json into map[string]any
// (numbers are float64, objects map[string]any, arrays []any). For a
// CloudEvent that is its JSON form: attributes and extensions are top-level
// members and data, when it is JSON, is nested under "data".
//
// The language follows EventBridge (and its engine, Event Ruler):
//
//   - A pattern is a JSON object whose leaves are arrays; an array matches
//     when any of its elements matches. Fields are joined with AND; nested
//     objects address nested fields. Keys are joined with "." to a path, so
//     {"a":{"b":[1]}} and {"a.b":[1]} are the same pattern, and an event key
//     "a.b" is the same path as "a" then "b".
//   - Element forms: a string, number, true, false or null (equality; numbers
//     compare as numbers), and the operators prefix, suffix (both also with
//     {"equals-ignore-case": s}), equals-ignore-case, wildcard, anything-but
//     (a value, a list, or {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": …}),
//     numeric, exists, and cidr. "$or" takes two or more objects, at any level.
//   - An event array matches when any element matches. Fields inside objects
//     that are elements of the same array must come from the same element.
//
// Compile validates a pattern and reports every problem with its path
// (Errors). Pattern.Match is a direct evaluator of one pattern. For many
// patterns, a Builder makes a Machine whose cost per event grows far slower
// than the number of patterns.
//
// Deliberate difference from EventBridge: the empty top-level pattern {} is
// accepted and matches every event (EventBridge refuses it); nested empty
// objects are refused as EventBridge does. See docs/rules.md.
package pattern
