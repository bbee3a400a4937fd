package natsjs

import "time"

func timeUntil(d time.Time) time.Duration {
	if t := time.Until(d); t > 0 {
		return t
	}
	return time.Millisecond
}

// flushTimeout bounds the wait for the server to confirm subscriptions
// when the caller's context has no deadline.
const flushTimeout = 30 * time.Second
