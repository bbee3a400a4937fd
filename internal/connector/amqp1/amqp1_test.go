package amqp1_test

import (
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"os"
	"os/exec"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"
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

// adminURL is the same RabbitMQ over AMQP 0-9-1, to declare test queues.
func adminURL() string {
	if u := os.Getenv("EVENTBRIDGE_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://127.0.0.1:5672/"
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
	admin(t, func(ch *amqp091.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, args)
		return err
	})
	t.Cleanup(func() {
		admin(t, func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	})
}

func admin(t testing.TB, f func(ch *amqp091.Channel) error) {
	t.Helper()
	// Another package's test may be restarting RabbitMQ: wait for it.
	var conn *amqp091.Connection
	var err error
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if conn, err = amqp091.Dial(adminURL()); err == nil || time.Now().After(deadline) {
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

func restartRabbitMQ(t testing.TB) {
	t.Helper()
	for _, args := range [][]string{{"stop_app"}, {"start_app"}, {"await_startup"}} {
		if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
			t.Fatalf("rabbitmqctl %s: %v\n%s", args[0], err, out)
		}
	}
	connectortest.Eventually(t, 60*time.Second, func() bool {
		c, err := amqp091.Dial(adminURL())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "RabbitMQ did not come back")
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
		h.RestartBroker = restartRabbitMQ
	}
	connectortest.Run(t, h)
}
