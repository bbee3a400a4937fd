// Package spec holds Problems, the list of validation errors with their
// paths that every connector config's Validate method fills (see
// pkg/connector's Config). A problem names the field ("url",
// "auth.token") and the reason; the bridge reports them in config file
// errors (with line and column) and in API problem+json answers. It also
// holds Duration, the duration type of config fields.
package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one validation error: where, and why.
type Problem struct {
	// Path is dotted, with [i] for list entries and names for map keys:
	// "rules.main.delivery.backoff.initial", "targets.chat.url".
	Path string `json:"field"`
	// Reason says what is wrong and, where it helps, what would be right.
	Reason string `json:"reason"`
	// Line and Column locate the problem in a config file, when known.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Reason
	if p.Path == "" {
		s = p.Reason
	}
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: %s", p.Line, s)
	}
	return s
}

// Problems collects validation errors under a path prefix. The zero value is
// not usable; start with NewProblems. Copies made by At share one list, so a
// nested Validate can add to its parent's problems.
type Problems struct {
	prefix string
	list   *[]Problem
}

// NewProblems returns an empty list rooted at prefix ("" for the top).
func NewProblems(prefix string) Problems {
	return Problems{prefix: prefix, list: new([]Problem)}
}

// At returns a view of p whose paths are under seg. A seg starting with
// "[" is appended without a dot.
func (p Problems) At(seg string) Problems {
	return Problems{prefix: join(p.prefix, seg), list: p.list}
}

// Index returns a view of p for list entry i.
func (p Problems) Index(i int) Problems { return p.At(fmt.Sprintf("[%d]", i)) }

// Add records a problem at the view's path.
func (p Problems) Add(format string, args ...any) {
	*p.list = append(*p.list, Problem{Path: p.prefix, Reason: fmt.Sprintf(format, args...)})
}

// AddAt records a problem at a sub-path of the view.
func (p Problems) AddAt(seg, format string, args ...any) { p.At(seg).Add(format, args...) }

// Append records problems found by someone else, under the view's path.
func (p Problems) Append(ps ...Problem) {
	for _, q := range ps {
		q.Path = join(p.prefix, q.Path)
		*p.list = append(*p.list, q)
	}
}

// Locate sets the line and column of every problem that has none, from
// where(path).
func (p Problems) Locate(where func(path string) (line, col int)) {
	for i := range *p.list {
		q := &(*p.list)[i]
		if q.Line == 0 {
			q.Line, q.Column = where(q.Path)
		}
	}
}

// Scrub replaces, in every problem recorded so far, each of values (the
// values that references put in a spec) by "***", so that no message shows
// a secret, whatever the validator that wrote it printed.
func (p Problems) Scrub(values []string) {
	for i := range *p.list {
		(*p.list)[i].Reason = scrub((*p.list)[i].Reason, values)
	}
}

// Len returns the number of problems recorded so far in the whole list.
func (p Problems) Len() int { return len(*p.list) }

// List returns the problems, sorted by line then path.
func (p Problems) List() []Problem {
	out := append([]Problem(nil), *p.list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// Err returns nil when there are no problems, else a *ValidationError.
func (p Problems) Err() error {
	if p.list == nil || len(*p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.List()}
}

// ValidationError is the error of a spec with problems.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "\n")
}

func join(prefix, seg string) string {
	switch {
	case prefix == "":
		return seg
	case seg == "":
		return prefix
	case strings.HasPrefix(seg, "["):
		return prefix + seg
	default:
		return prefix + "." + seg
	}
}

// scrub replaces every occurrence of values in s by "***", longest first
// (so that a value inside another goes too).
func scrub(s string, values []string) string {
	if len(values) == 0 {
		return s
	}
	vs := append([]string(nil), values...)
	sort.Slice(vs, func(i, j int) bool { return len(vs[i]) > len(vs[j]) })
	for _, v := range vs {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}
