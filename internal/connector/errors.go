package connector

import (
	"time"

	pub "github.com/eventbridge-dev/eventbridge/pkg/connector"
)

// ErrNotConnected is returned by a target whose connection is down; the
// delivery is retried later.
var ErrNotConnected = pub.ErrNotConnected

// Permanent marks err as a failure that retrying cannot fix (the event goes
// to the dead-letter queue at once). Permanent(nil) is nil.
func Permanent(err error) error { return pub.Permanent(err) }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool { return pub.IsPermanent(err) }

// RetryAfterError is a retryable failure where the target said when to
// come back (HTTP 429/503 with Retry-After).
type RetryAfterError = pub.RetryAfterError

// RetryAfter wraps err with the delay the target asked for.
func RetryAfter(err error, d time.Duration) error { return pub.RetryAfter(err, d) }

// StatusError carries a protocol status code (an HTTP status, say) so that
// the dead-letter record and metrics can show it.
type StatusError = pub.StatusError

// StatusCode returns the status code inside err, or 0.
func StatusCode(err error) int { return pub.StatusCode(err) }
