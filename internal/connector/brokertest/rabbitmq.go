// Package brokertest holds what the broker connectors' tests share about
// the brokers they run against.
package brokertest

import (
	"os"
	"os/exec"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// AMQPURL is the RabbitMQ of the integration tests over AMQP 0-9-1:
// $EVENTBRIDGE_AMQP_URL, by default amqp://127.0.0.1:5672/.
func AMQPURL() string {
	if u := os.Getenv("EVENTBRIDGE_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://127.0.0.1:5672/"
}

// RabbitAdmin runs f on a channel of its own connection to AMQPURL, for
// declaring and deleting test queues. It waits (up to a minute) for a
// broker that another package's test may be restarting.
func RabbitAdmin(t testing.TB, f func(ch *amqp091.Channel) error) {
	t.Helper()
	var conn *amqp091.Connection
	var err error
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if conn, err = amqp091.Dial(AMQPURL()); err == nil || time.Now().After(deadline) {
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

// DeleteQueue removes a test queue when the test ends.
func DeleteQueue(t testing.TB, q string) {
	t.Cleanup(func() {
		RabbitAdmin(t, func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	})
}

// RestartRabbitMQ stops and starts the RabbitMQ application, and waits
// until it accepts connections again. Only for EVENTBRIDGE_INTEGRATION=1,
// since it disturbs everyone else using the broker.
func RestartRabbitMQ(t testing.TB) {
	t.Helper()
	for _, args := range [][]string{{"stop_app"}, {"start_app"}, {"await_startup"}} {
		if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
			t.Fatalf("rabbitmqctl %s: %v\n%s", args[0], err, out)
		}
	}
	connectortest.Eventually(t, 60*time.Second, func() bool {
		c, err := amqp091.Dial(AMQPURL())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "RabbitMQ did not come back")
}
