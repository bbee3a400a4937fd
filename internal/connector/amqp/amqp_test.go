package amqp_test

import (
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"net/url"
	"os"
	"testing"

	"go.uber.org/goleak"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// needBroker skips the test when RabbitMQ is not reachable, unless
// EVENTBRIDGE_INTEGRATION=1, where that is a failure.
func needBroker(t testing.TB) string {
	t.Helper()
	testkit.LockService(t, "rabbitmq") // other packages restart it
	u := brokertest.AMQPURL()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	testkit.NeedTCP(t, pu.Host, "RabbitMQ")
	return u
}

// TestIntegrationConformance runs the connector suite against RabbitMQ:
// the target publishes through the default exchange to a queue the source
// declares and consumes.
func TestIntegrationConformance(t *testing.T) {
	u := needBroker(t)
	h := connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Persistent: true, Ordered: true},
		SourceType: "amqp", TargetType: "amqp",
		Source: func(t testing.TB, ch string) string {
			brokertest.DeleteQueue(t, ch)
			return fmt.Sprintf(`{"type":"amqp","url":%q,"queue":%q,"declare":{},"reconnect_max":"1s"}`, u, ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"amqp","url":%q,"routing_key":%q,"mode":%q,"mandatory":true,"reconnect_max":"1s"}`, u, ch, mode)
		},
	}
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
		h.RestartBroker = brokertest.RestartRabbitMQ
	}
	connectortest.Run(t, h)
}
