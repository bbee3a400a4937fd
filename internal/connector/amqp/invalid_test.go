package amqp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// A source whose broker is down starts anyway, says why in its health,
// and a target returns ErrNotConnected. No broker needed.
func TestStartWithoutBroker(t *testing.T) {
	const url = "amqp://127.0.0.1:1/"
	brokertest.StartWithoutBroker(t, `{"type":"amqp","url":"`+url+`","queue":"q"}`, `{"type":"amqp","url":"`+url+`","routing_key":"q"}`)
}

// Every problem of a config is reported with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"amqp","url":"http://x","prefetch":-1,"dead_letter":"dlx","wrap":{}}`,
		"source.url", "source.queue", "source.prefetch", "source.dead_letter", "source.wrap.type", "source.wrap.source")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"amqp","url":"amqp://u:pw@h/","queue":"q","declare":{"queue_type":"x","bindings":[{"exchange_type":"y"}]}}`,
		"source.url", "source.declare.queue_type", "source.declare.bindings[0].exchange", "source.declare.bindings[0].exchange_type")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"amqp","mode":"x","property_prefix":"ce-","routing_key":"{Bad}","tls":{"cert_file":"c"}}`,
		"target.mode", "target.property_prefix", "target.routing_key", "target.tls")
}

// publish sends a raw message to a queue through the default exchange.
func publish(t *testing.T, q string, p amqp091.Publishing) {
	t.Helper()
	brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
		return ch.PublishWithContext(context.Background(), "", q, false, false, p)
	})
}

// Messages that are not valid CloudEvents go to the dead-letter exchange
// and are counted; nothing is stored.
func TestIntegrationInvalidToDeadLetter(t *testing.T) {
	u := needBroker(t)
	q := connectortest.Channel(t)
	dlx, dlq := q+"-dlx", q+"-dlq"
	brokertest.DeleteQueue(t, q)
	brokertest.DeleteQueue(t, dlq)
	brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
		if err := ch.ExchangeDeclare(dlx, "fanout", false, true, false, false, nil); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare(dlq, false, false, false, false, nil); err != nil {
			return err
		}
		return ch.QueueBind(dlq, "", dlx, false, nil)
	})
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	src := connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"amqp","url":%q,"queue":%q,"declare":{},"dead_letter":%q}`, u, q, dlx), deps)
	connectortest.Eventually(t, 10*time.Second, func() bool { return src.Health().State == component.Running }, "source not running")
	publish(t, q, amqp091.Publishing{ContentType: "text/plain", Body: []byte("not an event")})
	publish(t, q, amqp091.Publishing{Headers: amqp091.Table{"cloudEvents:specversion": "1.0", "cloudEvents:id": "x"}, Body: []byte("{}")})
	publish(t, q, amqp091.Publishing{ContentType: "application/cloudevents+json", Body: []byte(`{"specversion":"1.0"}`)})
	connectortest.Eventually(t, 10*time.Second, func() bool {
		n := 0
		brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
			qi, err := ch.QueueDeclarePassive(dlq, false, false, false, false, nil)
			n = qi.Messages
			return err
		})
		return n == 3
	}, "the invalid messages did not reach the dead-letter queue")
	if got := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("c", "invalid")); got != 3 {
		t.Errorf("rejected{invalid} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(deps.Metrics.ConnMessages.WithLabelValues("c", "amqp", "in", "invalid")); got != 3 {
		t.Errorf("messages{in,invalid} = %v, want 3", got)
	}
	if col.Count() != 0 {
		t.Errorf("stored %d events", col.Count())
	}
}

// With wrap, a plain message becomes an event whose data is the body and
// whose subject is the routing key.
func TestIntegrationWrap(t *testing.T) {
	u := needBroker(t)
	q := connectortest.Channel(t)
	brokertest.DeleteQueue(t, q)
	col := connectortest.NewCollector()
	connectortest.StartSourceWith(t, "c", fmt.Sprintf(`{"type":"amqp","url":%q,"queue":%q,"declare":{},"wrap":{"type":"com.example.plain","source":"/rabbit"}}`, u, q), connectortest.Deps(col))
	connectortest.Eventually(t, 10*time.Second, func() bool {
		ok := false
		brokertest.RabbitAdmin(t, func(ch *amqp091.Channel) error {
			// Not declared yet is a 404, which closes the channel: retry.
			qi, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
			ok = err == nil && qi.Consumers == 1
			return nil
		})
		return ok
	}, "the source does not consume")
	publish(t, q, amqp091.Publishing{ContentType: "text/plain", Body: []byte("hello")})
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 1 }, "nothing stored")
	e := col.Events()[0]
	if e.Type() != "com.example.plain" || e.Source() != "/rabbit" || string(e.Data()) != "hello" || e.Subject() != q || e.DataContentType() != "text/plain" {
		t.Fatalf("wrapped event %v", e)
	}
}
