package kafka

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/cloudsynctest"
)

// TestSync runs the cloudsync scenario (create/update/delete, statuses,
// agent restart with spec resync, broker restart with reconnect and
// resync) over an in-process Kafka.
func TestSync(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	c := runKafka(t, port, dir)
	o := opts(c)
	cloudsynctest.RunSync(t, cloudsynctest.Transports{
		Source: func(t testing.TB, id string) cloudsync.Transport { return must(NewSource(id, o)) },
		Agent:  func(t testing.TB, id, cluster string) cloudsync.Transport { return must(NewAgent(id, cluster, o)) },
		RestartBroker: func(t testing.TB, whileDown func()) {
			c.Close()
			whileDown()
			c = runKafka(t.(*testing.T), port, dir)
		},
		Timeout: testTimeout,
	})
}
