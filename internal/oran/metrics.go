package oran

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// Metrics are cloud-event-proxy's (rest-api pkg/localmetrics), with the
// same names and labels, so that its dashboards keep working.
type Metrics struct {
	EventsPublished *prometheus.GaugeVec // address, status: success | fail
	Subscriptions   *prometheus.GaugeVec // status: active | failed to create | failed to delete
	Publishers      *prometheus.GaugeVec // status: active | failed to create | failed to delete
	StatusPing      *prometheus.GaugeVec // status: success | fail
}

// NewMetrics registers the metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		EventsPublished: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cne_api_events_published", Help: "O-RAN API: events published through /create/event, by resource address and status (success, fail)."}, []string{"address", "status"}),
		Subscriptions:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cne_api_subscriptions", Help: "O-RAN API: subscriptions by status (active; failed to create, failed to delete: counts of failures)."}, []string{"status"}),
		Publishers:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cne_api_publishers", Help: "O-RAN API: publishers by status (active; failed to create, failed to delete: counts of failures)."}, []string{"status"}),
		StatusPing:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cne_api_status_ping", Help: "O-RAN API: status pings (PUT /subscriptions/status/{id}) by status (success, fail)."}, []string{"status"}),
	}
	if reg != nil {
		reg.MustRegister(m.EventsPublished, m.Subscriptions, m.Publishers, m.StatusPing)
	}
	return m
}

func (m *Metrics) count(kind, status string, delta float64) {
	g := m.Subscriptions
	if kind == KindPublisher {
		g = m.Publishers
	}
	g.WithLabelValues(status).Add(delta)
}

func (m *Metrics) setActive(kind string, n int) {
	g := m.Subscriptions
	if kind == KindPublisher {
		g = m.Publishers
	}
	g.WithLabelValues("active").Set(float64(n))
}

// newHandshakeClient sends handshakes; unless allowPrivate, it connects
// only to public addresses (checked after DNS, on every connection).
func newHandshakeClient(allowPrivate bool) *http.Client {
	c := &http.Client{
		Timeout: 10 * time.Second,
		// A handshake is not redirected: the endpoint must answer itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if !allowPrivate {
		c.Transport = netguard.Strict.Transport()
	}
	return c
}
