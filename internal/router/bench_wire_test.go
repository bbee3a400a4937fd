package router

import (
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

func newBenchRouter(b *bus.Bus, k *delivery.Keeper, m *telemetry.Metrics) *Router {
	return New(Config{Bus: b, Keeper: k, Metrics: m})
}

func newBenchRoute(b *bus.Bus, k *delivery.Keeper, m *telemetry.Metrics, rule, target string, p delivery.Policy, s connector.Target) *delivery.Route {
	return delivery.NewRoute(delivery.RouteConfig{Rule: rule, Target: target, Policy: p, Sender: s, Bus: b, Keeper: k, Metrics: m})
}
