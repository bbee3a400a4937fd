package jobapi

import (
	"errors"
	"fmt"
)

// Errors of the scheduler the API maps to answers (package jobs
// re-exports them).
var (
	// ErrNotFound: no job (or no state key) of that name.
	ErrNotFound = errors.New("jobs: not found")
	// ErrNotHolder: another instance holds the job's lease, so the job
	// runs there; RunNow on this instance cannot start it.
	ErrNotHolder = errors.New("jobs: another instance runs this job")
)

// NotHolderError says which instance holds a job's lease. It wraps
// ErrNotHolder.
type NotHolderError struct{ Holder string }

func (e *NotHolderError) Error() string {
	if e.Holder == "" {
		return ErrNotHolder.Error()
	}
	return fmt.Sprintf("%v: %s", ErrNotHolder, e.Holder)
}

func (e *NotHolderError) Unwrap() error { return ErrNotHolder }
