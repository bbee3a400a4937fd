package deploy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	legendLabel     = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	annotationLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	labelValuesCall = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)
	dashboardVar    = regexp.MustCompile(`\$([a-zA-Z_][a-zA-Z0-9_]*)`)
)

// ds is the dashboard's datasource: an input chosen on import.
const ds = "${DS_PROMETHEUS}"

// checkDashboard checks a Grafana dashboard's queries against the metrics.
func checkDashboard(data []byte, ms map[string]metric) (problems, map[string]bool) {
	var p problems
	used := map[string]bool{}
	var d struct {
		Inputs []struct {
			Name     string
			PluginID string `json:"pluginId"`
		} `json:"__inputs"`
		Templating struct {
			List []struct {
				Name       string
				Query      any
				Datasource struct{ UID string }
			}
		}
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource struct{ UID string }
			Targets    []struct {
				Expr         string
				LegendFormat string
				Datasource   struct{ UID string }
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		p.add("not JSON: %v", err)
		return p, used
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		p.add("__inputs: want one datasource input DS_PROMETHEUS")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Datasource.UID != ds {
			p.add("variable %s: datasource %q, want %s", v.Name, v.Datasource.UID, ds)
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		lv := labelValuesCall.FindStringSubmatch(q)
		if lv == nil {
			p.add("variable %s: query %q is not label_values(expr, label)", v.Name, q)
			continue
		}
		if labels := checkPromQL(lv[1], ms, &p); !slices.Contains(labels, lv[2]) {
			p.add("variable %s: %s has no label %s", v.Name, lv[1], lv[2])
		}
	}
	ids := map[int]bool{}
	for _, panel := range d.Panels {
		if ids[panel.ID] {
			p.add("panel id %d used twice", panel.ID)
		}
		ids[panel.ID] = true
		if panel.Type == "row" {
			continue
		}
		where := "panel " + panel.Title
		if panel.Datasource.UID != ds {
			p.add("%s: datasource %q, want %s", where, panel.Datasource.UID, ds)
		}
		if len(panel.Targets) == 0 {
			p.add("%s: no queries", where)
		}
		for _, tg := range panel.Targets {
			if tg.Datasource.UID != ds {
				p.add("%s: query datasource %q, want %s", where, tg.Datasource.UID, ds)
			}
			var pp problems
			labels := checkPromQL(tg.Expr, ms, &pp)
			for _, s := range pp {
				p.add("%s: %s", where, s)
			}
			for _, m := range legendLabel.FindAllStringSubmatch(tg.LegendFormat, -1) {
				if !slices.Contains(labels, m[1]) {
					p.add("%s: legend {{%s}}: the query's result has no such label (%v)", where, m[1], labels)
				}
			}
			for _, m := range dashboardVar.FindAllStringSubmatch(tg.Expr, -1) {
				if !strings.HasPrefix(m[1], "__") && !vars[m[1]] {
					p.add("%s: $%s is no dashboard variable", where, m[1])
				}
			}
			if pe, err := parsePromQL(tg.Expr); err == nil {
				for _, s := range pe.selectors {
					used[s.metric] = true
				}
			}
		}
	}
	return p, used
}

func TestGrafanaDashboardUsesExportedMetrics(t *testing.T) {
	ms := exportedMetrics(t)
	p, used := checkDashboard(readFile(t, "grafana/eventbridge.json"), ms)
	p.report(t, "grafana/eventbridge.json")
	// What an operator of the bridge looks at first: each must have a panel.
	for _, name := range []string{
		"eventbridge_events_received_total", "eventbridge_events_rejected_total", "eventbridge_events_stored_total",
		"eventbridge_rule_matched_total", "eventbridge_deliveries_total",
		"eventbridge_delivery_latency_seconds_bucket", "eventbridge_delivery_attempt_seconds_bucket",
		"eventbridge_rule_pending", "eventbridge_dlq_messages",
		"eventbridge_connector_connected", "eventbridge_connector_connection_resets_total",
		"go_goroutines", "go_gc_duration_seconds_count", "process_cpu_seconds_total", "process_resident_memory_bytes",
	} {
		if !used[name] {
			t.Errorf("grafana/eventbridge.json: no panel shows %s", name)
		}
	}
}

// alertMetrics are the series the alerts may use besides the bridge's own:
// Prometheus' up, and kube-state-metrics' readiness of a container.
var alertMetrics = map[string]metric{
	"up":                              {family: "up", labels: map[string]bool{"job": true, "instance": true}},
	"kube_pod_container_status_ready": {family: "kube_pod_container_status_ready", labels: map[string]bool{"namespace": true, "pod": true, "container": true, "uid": true}},
}

// checkAlerts checks a Prometheus rule file; it returns the metrics used.
func checkAlerts(docs []obj, ms map[string]metric) (problems, map[string]bool) {
	var p problems
	used := map[string]bool{}
	all := map[string]metric{}
	for k, v := range ms {
		all[k] = v
	}
	for k, v := range alertMetrics {
		all[k] = v
	}
	if len(docs) != 1 || len(getList(docs[0], "groups")) == 0 {
		p.add("want one document with groups")
		return p, used
	}
	names := map[string]bool{}
	for _, g := range getList(docs[0], "groups") {
		for _, r := range getList(g, "rules") {
			name := getString(r, "alert")
			where := "alert " + name
			if name == "" || names[name] {
				p.add("%s: missing or duplicate name", where)
			}
			names[name] = true
			if getString(r, "labels", "severity") == "" {
				p.add("%s: no severity label", where)
			}
			if getString(r, "annotations", "summary") == "" || getString(r, "annotations", "description") == "" {
				p.add("%s: needs a summary and a description", where)
			}
			expr := getString(r, "expr")
			var pp problems
			labels := checkPromQL(expr, all, &pp)
			for _, s := range pp {
				p.add("%s: %s", where, s)
			}
			for _, k := range []string{"summary", "description"} {
				for _, m := range annotationLabel.FindAllStringSubmatch(getString(r, "annotations", k), -1) {
					if !slices.Contains(labels, m[1]) {
						p.add("%s: %s uses $labels.%s, which the expression's result lacks (%v)", where, k, m[1], labels)
					}
				}
			}
			if pe, err := parsePromQL(expr); err == nil {
				for _, s := range pe.selectors {
					used[s.metric] = true
				}
			}
		}
	}
	return p, used
}

func TestPrometheusAlertsUseExportedMetrics(t *testing.T) {
	const file = "prometheus/alerts.yaml"
	p, used := checkAlerts(readDocs(t, file), exportedMetrics(t))
	p.report(t, file)
	for what, name := range map[string]string{
		"DLQ growth":             "eventbridge_dlq_messages",
		"pending per rule":       "eventbridge_rule_pending",
		"delivery failure ratio": "eventbridge_deliveries_total",
		"not ready":              "kube_pod_container_status_ready",
		"connector disconnected": "eventbridge_connector_connected",
	} {
		if !used[name] {
			t.Errorf("%s: no alert for %s (%s)", file, what, name)
		}
	}
	// The readiness alert names the container of the manifests and chart.
	if !strings.Contains(string(readFile(t, file)), `container="eventbridge"`) {
		t.Errorf(`%s: the readiness alert must match container="eventbridge"`, file)
	}
}
