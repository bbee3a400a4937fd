package natsjs

import (
	"net"
	"testing"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/cloudsynctest"
)

// TestSync runs the cloudsync scenario (create/update/delete, statuses,
// agent restart with spec resync, server restart with reconnect and
// resync) over core NATS and over JetStream.
func TestSync(t *testing.T) {
	for _, mode := range []string{"core", "jetstream", "jetstream-durable"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			srv := runServer(t, 0, dir)
			port := srv.Addr().(*net.TCPAddr).Port
			o := Options{URL: srv.ClientURL(), Prefix: uniquePrefix(t)}
			so, ao := o, o
			switch mode {
			case "jetstream":
				so.JetStream, ao.JetStream = &JetStreamOptions{}, &JetStreamOptions{}
			case "jetstream-durable":
				// each side its own durable consumers
				so.JetStream, ao.JetStream = &JetStreamOptions{Durable: "source"}, &JetStreamOptions{Durable: "agent"}
			}
			cloudsynctest.RunSync(t, cloudsynctest.Transports{
				Source: func(t testing.TB, id string) cloudsync.Transport { return must(t)(NewSource(id, so)) },
				Agent: func(t testing.TB, id, cluster string) cloudsync.Transport {
					return must(t)(NewAgent(id, cluster, ao))
				},
				RestartBroker: func(t testing.TB, whileDown func()) {
					srv.Shutdown()
					srv.WaitForShutdown()
					whileDown()
					srv = runServer(t.(*testing.T), port, dir)
				},
			})
		})
	}
}

func must(t testing.TB) func(*Transport, error) *Transport {
	return func(tr *Transport, err error) *Transport {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
}
