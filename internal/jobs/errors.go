package jobs

import (
	"errors"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
)

// Errors of the scheduler.
var (
	// ErrNotFound: no job (or no state key) of that name.
	ErrNotFound = jobapi.ErrNotFound
	// ErrExists: Add of a name that is already scheduled.
	ErrExists = errors.New("jobs: job already scheduled")
	// ErrNotHolder: another instance holds the job's lease, so the job
	// runs there; RunNow on this instance cannot start it.
	ErrNotHolder = jobapi.ErrNotHolder
	// ErrStopped: the scheduler is stopped.
	ErrStopped = errors.New("jobs: scheduler stopped")
)

// RetryAfterError is a failed run whose job said when to try again (an
// HTTP 429 or 503 with Retry-After, say). The scheduler retries after
// that delay instead of its own backoff.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with the delay after which the run should be
// tried again.
func RetryAfter(err error, d time.Duration) error {
	return &RetryAfterError{Err: err, After: d}
}

// NotHolderError says which instance holds a job's lease. It wraps
// ErrNotHolder.
type NotHolderError = jobapi.NotHolderError
