package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// sendWhenUp sends once the target is connected, and returns the outcome.
func sendWhenUp(t *testing.T, tg connector.Target) error {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := tg.Send(context.Background(), connectortest.Sample("refused"))
		if !errors.Is(err, connector.ErrNotConnected) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The target tells refusals that will not change (no such exchange) from
// those that may (no queue bound yet, with mandatory).
func TestIntegrationTargetRefusals(t *testing.T) {
	u := needBroker(t)
	ch := connectortest.Channel(t)
	missing := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"amqp","url":%q,"exchange":"no-such-exchange-%s","reconnect_max":"1s"}`, u, ch), connectortest.Deps(nil))
	err := sendWhenUp(t, missing)
	if !connector.IsPermanent(err) || connector.StatusCode(err) != 404 {
		t.Errorf("missing exchange: %v (permanent %v, code %d), want permanent 404", err, connector.IsPermanent(err), connector.StatusCode(err))
	}
	unroutable := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"amqp","url":%q,"routing_key":"nobody-%s","mandatory":true}`, u, ch), connectortest.Deps(nil))
	err = sendWhenUp(t, unroutable)
	if err == nil || connector.IsPermanent(err) || connector.StatusCode(err) != 312 {
		t.Errorf("unroutable: %v, want a retryable 312 NO_ROUTE", err)
	}
	// Without mandatory the broker drops an unroutable message and confirms it.
	dropped := connectortest.StartTargetWith(t, "c", fmt.Sprintf(`{"type":"amqp","url":%q,"routing_key":"nobody-%s"}`, u, ch), connectortest.Deps(nil))
	if err := sendWhenUp(t, dropped); err != nil {
		t.Errorf("not mandatory: %v", err)
	}
}
