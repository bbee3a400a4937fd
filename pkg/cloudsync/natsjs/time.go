package natsjs

import "time"

func timeUntil(d time.Time) time.Duration {
	if t := time.Until(d); t > 0 {
		return t
	}
	return time.Millisecond
}
