package client_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats-server and the HTTP clients keep a few process-wide goroutines.
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

// start runs a bridge on the config and returns a client of it.
func start(t *testing.T, yamlText string, opts ...client.Option) (*client.Client, string) {
	t.Helper()
	_, url := bridgetest.Start(t, yamlText)
	c, err := client.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, url
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
