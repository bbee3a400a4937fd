package pattern

import (
	"errors"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every compile error: an *Error
// and an Errors list.
var ErrInvalid = errors.New("invalid event pattern")

// ErrTooLarge is matched by the error for a pattern longer than
// MaxPatternLength characters.
var ErrTooLarge = errors.New("event pattern too large")

// ErrTooComplex is matched by the error for a pattern whose "$or" branches
// expand to more than MaxBranches alternatives.
var ErrTooComplex = errors.New("event pattern too complex")

// Error is one problem in a pattern. Path locates it inside the pattern,
// e.g. "data.total[0].numeric" or "$or[1].type[0].prefix"; it is empty for a
// problem with the whole pattern.
type Error struct {
	Path   string
	Reason string

	kind error // an extra sentinel such as ErrTooLarge, or nil
}

// Error returns Path + ": " + Reason, or Reason alone for the whole pattern.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Is reports whether target is ErrInvalid or the error's own sentinel.
func (e *Error) Is(target error) bool {
	return target == ErrInvalid || (e.kind != nil && target == e.kind)
}

// Errors is every problem found in a pattern, in document order. Compile
// returns it, never empty.
type Errors []*Error

// Error joins the problems with "; ".
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the problems, so that errors.Is and errors.As see each.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is reports whether target is ErrInvalid.
func (es Errors) Is(target error) bool { return target == ErrInvalid }
