package connector

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotConnected is returned by a target whose connection is down; the
// delivery is retried later.
var ErrNotConnected = errors.New("not connected")

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix (the event goes
// to the dead-letter queue at once). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// RetryAfterError is a retryable failure where the target said when to
// come back (HTTP 429/503 with Retry-After).
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with the delay the target asked for.
func RetryAfter(err error, d time.Duration) error {
	return &RetryAfterError{Err: err, After: d}
}

// StatusError carries a protocol status code (an HTTP status, say) so that
// the dead-letter record and metrics can show it.
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// StatusCode returns the status code inside err, or 0.
func StatusCode(err error) int {
	var s *StatusError
	if errors.As(err, &s) {
		return s.Code
	}
	return 0
}
