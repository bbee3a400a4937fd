package amqp1_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// A connector whose peer is down starts anyway and says why. No broker
// needed.
func TestStartWithoutPeer(t *testing.T) {
	const url = "amqp://127.0.0.1:1"
	tgt := brokertest.StartWithoutBroker(t, `{"type":"amqp1","url":"`+url+`","address":"q"}`, `{"type":"amqp1","url":"`+url+`","address":"q"}`)
	// Once a connection attempt failed, Send says why.
	connectortest.Eventually(t, 10*time.Second, func() bool { return tgt.Health().LastError != "" }, "no error in the target's health")
	if err := tgt.Send(context.Background(), connectortest.Sample("x")); !errors.Is(err, connector.ErrNotConnected) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Send = %v, want ErrNotConnected wrapping ECONNREFUSED", err)
	}
}

func publish(t *testing.T, q string, p amqp091.Publishing) {
	t.Helper()
	brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
		return ch.PublishWithContext(context.Background(), "", q, false, false, p)
	})
}

func depth(t *testing.T, q string) int {
	n := 0
	brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
		qi, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		n = qi.Messages
		return err
	})
	return n
}

// Invalid messages go to the dead_letter address when one is set, and are
// rejected otherwise (here into the queue's dead-letter exchange).
func TestIntegrationInvalid(t *testing.T) {
	u := needPeer(t)
	for _, withAddress := range []bool{true, false} {
		t.Run(fmt.Sprint("dead_letter=", withAddress), func(t *testing.T) {
			q := connectortest.Channel(t)
			dlq := q + "-dlq"
			declareQueue(t, dlq, nil)
			cfg := fmt.Sprintf(`{"type":"amqp1","url":%q,"address":"/amq/queue/%s"`, u, q)
			if withAddress {
				declareQueue(t, q, nil)
				cfg += fmt.Sprintf(`,"dead_letter":"/amq/queue/%s"}`, dlq)
			} else {
				// RabbitMQ dead-letters a rejected message through the
				// queue's x-dead-letter-exchange; "" routes by queue name.
				declareQueue(t, q, amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
				cfg += "}"
			}
			col := connectortest.NewCollector()
			deps := connectortest.Deps(col)
			src := connectortest.StartSourceWith(t, "c", cfg, deps)
			connectortest.Eventually(t, 10*time.Second, func() bool { return src.Health().State == component.Running }, "source not running")
			publish(t, q, amqp091.Publishing{ContentType: "text/plain", Body: []byte("not an event")})
			publish(t, q, amqp091.Publishing{Headers: amqp091.Table{"cloudEvents_specversion": "1.0"}, Body: []byte("{}")})
			connectortest.Eventually(t, 10*time.Second, func() bool { return depth(t, dlq) == 2 }, "the dead-letter queue holds %d of 2", depth(t, dlq))
			if got := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("c", "invalid")); got != 2 {
				t.Errorf("rejected{invalid} = %v, want 2", got)
			}
			if got := testutil.ToFloat64(deps.Metrics.ConnMessages.WithLabelValues("c", "amqp1", "in", "invalid")); got != 2 {
				t.Errorf("messages{in,invalid} = %v, want 2", got)
			}
			if col.Count() != 0 || depth(t, q) != 0 {
				t.Errorf("stored %d, left %d in the queue", col.Count(), depth(t, q))
			}
		})
	}
}

// With wrap, a plain message becomes an event.
func TestIntegrationWrap(t *testing.T) {
	u := needPeer(t)
	q := connectortest.Channel(t)
	declareQueue(t, q, nil)
	col := connectortest.NewCollector()
	src := connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"amqp1","url":%q,"address":"/amq/queue/%s","wrap":{"type":"com.example.plain","source":"/rabbit"}}`, u, q), connectortest.Deps(col))
	connectortest.Eventually(t, 10*time.Second, func() bool { return src.Health().State == component.Running }, "source not running")
	publish(t, q, amqp091.Publishing{ContentType: "text/plain", Body: []byte("hello")})
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 1 }, "nothing stored")
	if e := col.Events()[0]; e.Type() != "com.example.plain" || string(e.Data()) != "hello" || e.DataContentType() != "text/plain" {
		t.Fatalf("wrapped event %v", e)
	}
}
