// Package delivery hands matched events to targets: a bounded queue and a
// worker pool per (rule, target) route, retries with backoff through the
// durable RETRY stream, and the dead-letter queue. See docs/architecture.md,
// "Delivery, retry and dead letters".
package delivery
