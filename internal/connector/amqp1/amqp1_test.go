package amqp1_test

import (
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"os"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// peerURL is the AMQP 1.0 peer of the integration tests: RabbitMQ with
// its rabbitmq_amqp1_0 plugin (3.x) on the AMQP port.
func peerURL() string {
	if u := os.Getenv("EVENTBRIDGE_AMQP1_URL"); u != "" {
		return u
	}
	return "amqp://127.0.0.1:5672"
}

// needPeer skips the test unless the peer completes an AMQP 1.0
// handshake, or fails it under EVENTBRIDGE_INTEGRATION=1. An open port is
// not enough: RabbitMQ 3.x without its plugin listens on the same port
// and closes every AMQP 1.0 connection, and the tests would time out.
func needPeer(t testing.TB) string {
	t.Helper()
	testkit.LockService(t, "rabbitmq") // other packages restart it
	u := peerURL()
	testkit.NeedAMQP1(t, u)
	return u
}

// declareQueue declares a durable queue over AMQP 0-9-1 and deletes it
// when the test ends. args are queue arguments (a dead-letter exchange).
func declareQueue(t testing.TB, q string, args amqp091.Table) {
	t.Helper()
	brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, args)
		return err
	})
	t.Cleanup(func() {
		brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	})
}

// TestIntegrationConformance runs the connector suite against RabbitMQ's
// AMQP 1.0 plugin: the target sends to /amq/queue/<q>, the source
// receives from it.
func TestIntegrationConformance(t *testing.T) {
	u := needPeer(t)
	h := connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Persistent: true, Ordered: true},
		SourceType: "amqp1", TargetType: "amqp1",
		Source: func(t testing.TB, ch string) string {
			declareQueue(t, ch, nil)
			return fmt.Sprintf(`{"type":"amqp1","url":%q,"address":"/amq/queue/%s","reconnect_max":"1s"}`, u, ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"amqp1","url":%q,"address":"/amq/queue/%s","mode":%q,"reconnect_max":"1s"}`, u, ch, mode)
		},
	}
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
		h.RestartBroker = brokertest.RestartRabbitMQ
	}
	connectortest.Run(t, h)
}
