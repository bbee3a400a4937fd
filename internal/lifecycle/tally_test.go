package lifecycle

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTally(t *testing.T) {
	reg := prometheus.NewRegistry()
	tl := NewTally("server", "", reg)
	now := time.Unix(1700000000, 0)
	tl.now = func() time.Time { return now }
	ev := func(typ, identity, version string) []byte {
		return []byte(`{"protocol":"io.choria.lifecycle.v1.` + typ + `","id":"x","identity":"` + identity + `","component":"server","timestamp":1,"version":"` + version + `"}`)
	}
	tl.Process(ev("startup", "n1", "1.0"))
	tl.Process(ev("startup", "n2", "1.0"))
	tl.Process(ev("alive", "n2", "1.1"))                                                                                                                                                                                                  // n2 upgraded
	tl.Process([]byte(`{"specversion":"1.0","source":"io.choria.lifecycle","id":"1","type":"io.choria.lifecycle.v1.startup","data":{"protocol":"io.choria.lifecycle.v1.startup","identity":"n3","component":"server","version":"1.1"}}`)) // CloudEvent form
	tl.Process([]byte(`{"protocol":"io.choria.lifecycle.v1.startup","identity":"other","component":"ginkgo","version":"9"}`))                                                                                                             // another component
	tl.Process([]byte(`garbage`))
	if got := testutil.ToFloat64(tl.versions.WithLabelValues("server", "1.0")); got != 1 {
		t.Errorf("hosts on 1.0 = %v", got)
	}
	if got := testutil.ToFloat64(tl.versions.WithLabelValues("server", "1.1")); got != 2 {
		t.Errorf("hosts on 1.1 = %v", got)
	}
	if got := testutil.ToFloat64(tl.good.WithLabelValues("server")); got != 4 {
		t.Errorf("good events = %v", got)
	}
	if got := testutil.ToFloat64(tl.errors.WithLabelValues("server")); got != 1 {
		t.Errorf("process errors = %v", got)
	}
	tl.Process(ev("shutdown", "n1", ""))
	if got := testutil.ToFloat64(tl.versions.WithLabelValues("server", "1.0")); got != 0 {
		t.Errorf("after shutdown, hosts on 1.0 = %v", got)
	}
	now = now.Add(81 * time.Minute)
	tl.Process(ev("alive", "n3", "1.1")) // n3 stays fresh
	tl.Expire()
	if tl.Hosts() != 1 || testutil.ToFloat64(tl.expired.WithLabelValues("server")) != 1 {
		t.Errorf("expiry: %d hosts", tl.Hosts())
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`lifecycle_tally_versions{component="server",version="1.1"} 1`,
		`lifecycle_tally_event_types{component="server",type="startup"} 3`,
		`lifecycle_tally_nodes_expired{component="server"} 1`,
		`lifecycle_tally_maintenance_time_count{component="server"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("want %s in:\n%s", want, text)
		}
	}
}
