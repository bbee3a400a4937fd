package connector

import pub "github.com/eventbridge-dev/eventbridge/pkg/connector"

// RateLimit and CircuitBreaker are the rate_limit and circuit_breaker of
// every target (in Common); delivery enforces them (delivery.Guard).
type (
	RateLimit      = pub.RateLimit
	CircuitBreaker = pub.CircuitBreaker
)
