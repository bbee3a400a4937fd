package amqp_test

import (
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"net"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// brokerURL is the RabbitMQ the integration tests use.
func brokerURL() string {
	if u := os.Getenv("EVENTBRIDGE_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://127.0.0.1:5672/"
}

// needBroker skips the test when RabbitMQ is not reachable, unless
// EVENTBRIDGE_INTEGRATION=1, where that is a failure.
func needBroker(t testing.TB) string {
	t.Helper()
	testkit.LockService(t, "rabbitmq") // other packages restart it
	u := brokerURL()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
			t.Fatalf("RabbitMQ at %s: %v", pu.Host, err)
		}
		t.Skipf("RabbitMQ at %s is not reachable (set EVENTBRIDGE_INTEGRATION=1 to fail instead): %v", pu.Host, err)
	}
	c.Close()
	return u
}

// admin runs f on a channel of its own connection, for declaring and
// deleting test queues.
func admin(t testing.TB, f func(ch *amqp091.Channel) error) {
	t.Helper()
	// Another package's test may be restarting RabbitMQ: wait for it.
	var conn *amqp091.Connection
	var err error
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if conn, err = amqp091.Dial(brokerURL()); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("admin channel: %v", err)
	}
	defer ch.Close()
	if err := f(ch); err != nil {
		t.Fatal(err)
	}
}

// deleteQueue removes a test queue when the test ends.
func deleteQueue(t testing.TB, q string) {
	t.Cleanup(func() {
		admin(t, func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	})
}

// restartRabbitMQ stops and starts the RabbitMQ application, and waits
// until it accepts connections again. Only under EVENTBRIDGE_INTEGRATION=1,
// since it disturbs everyone else using the broker.
func restartRabbitMQ(t testing.TB) {
	t.Helper()
	for _, args := range [][]string{{"stop_app"}, {"start_app"}, {"await_startup"}} {
		if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
			t.Fatalf("rabbitmqctl %s: %v\n%s", args[0], err, out)
		}
	}
	connectortest.Eventually(t, 60*time.Second, func() bool {
		c, err := amqp091.Dial(brokerURL())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "RabbitMQ did not come back")
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
			deleteQueue(t, ch)
			return fmt.Sprintf(`{"type":"amqp","url":%q,"queue":%q,"declare":{},"reconnect_max":"1s"}`, u, ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"amqp","url":%q,"routing_key":%q,"mode":%q,"mandatory":true,"reconnect_max":"1s"}`, u, ch, mode)
		},
	}
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
		h.RestartBroker = restartRabbitMQ
	}
	connectortest.Run(t, h)
}
