package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// newMetrics is the bridge's registry: every eventbridge_* series carries
// instance (instance.name) and replica (instance.replica, unique per
// process by default), so that the replicas of one deployment, even on one
// host, are told apart.
func newMetrics(c config.InstanceConfig) *telemetry.Metrics {
	return telemetry.NewMetricsWith(prometheus.Labels{"instance": c.Name, "replica": c.Replica})
}
