package testkit

import (
	"testing"

	"go.uber.org/goleak"
)

// VerifyTestMain runs the tests of m, then fails if goroutines leaked,
// beside those that an embedded NATS server and the runtime's network
// poller keep for the whole process, and those that opts ignore.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	goleak.VerifyTestMain(m, append([]goleak.Option{
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}, opts...)...)
}
