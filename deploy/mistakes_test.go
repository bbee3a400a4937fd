package deploy

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The checks are only worth something if they fail on a mismatch: each case
// here breaks one artefact the way a careless edit would and expects the
// check to say so.

func deepCopy(t *testing.T, objs []obj) []obj {
	t.Helper()
	b, err := json.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	var out []obj
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func workloadOf(objs []obj) obj {
	for _, o := range objs {
		if k := getString(o, "kind"); k == "StatefulSet" || k == "Deployment" {
			return o
		}
	}
	return nil
}

func containerOf(objs []obj) obj {
	return getMap(workloadOf(objs), "spec", "template", "spec", "containers", "0")
}

func mountOf(objs []obj, name string) obj {
	for _, m := range getList(containerOf(objs), "volumeMounts") {
		if getString(m, "name") == name {
			return m.(obj)
		}
	}
	return nil
}

func expectProblem(t *testing.T, p problems, want string) {
	t.Helper()
	if !strings.Contains(p.String(), want) {
		t.Errorf("want a problem with %q, got:\n%s", want, p)
	}
}

func TestKubernetesChecksCatchMistakes(t *testing.T) {
	secrets := readDocs(t, filepath.Join(k8sDir, "base", "secret.example.yaml"))
	monitor := readDocs(t, filepath.Join(k8sDir, "monitoring", "servicemonitor.yaml"))
	embedded := append(kustomize(t, filepath.Join(k8sDir, "embedded")), monitor...)
	external := kustomize(t, filepath.Join(k8sDir, "external"))
	if p := checkCluster(t, cluster{objs: embedded, secrets: secrets}); len(p) > 0 {
		t.Fatalf("the manifests themselves have problems:\n%s", p)
	}
	cases := []struct {
		name   string
		base   []obj
		break_ func(objs []obj)
		want   string
	}{
		{"liveness path", embedded, func(o []obj) { getMap(containerOf(o), "livenessProbe", "httpGet")["path"] = "/health" }, "livenessProbe GETs \"/health\""},
		{"readiness path", embedded, func(o []obj) { getMap(containerOf(o), "readinessProbe", "httpGet")["path"] = "/healthz" }, "readinessProbe GETs"},
		{"probe port", embedded, func(o []obj) { getMap(containerOf(o), "startupProbe", "httpGet")["port"] = 9090 }, "startupProbe port"},
		{"container port", embedded, func(o []obj) { getMap(containerOf(o), "ports", "0")["containerPort"] = 9090 }, "the http container port is 9090"},
		{"loopback listen", embedded, func(o []obj) {
			cm := getMap(find(o, "ConfigMap", "")[0], "data")
			cm["eventbridge.yaml"] = strings.Replace(cm["eventbridge.yaml"].(string), "0.0.0.0:8080", "127.0.0.1:8080", 1)
		}, "loopback"},
		{"data mount", embedded, func(o []obj) { mountOf(o, "data")["mountPath"] = "/var/data" }, "bus.data_dir /data is on no volume mount"},
		{"data on emptyDir", embedded, func(o []obj) {
			workloadOf(o)["spec"].(obj)["volumeClaimTemplates"] = nil
		}, "not on a volumeClaimTemplate"},
		{"replicas", embedded, func(o []obj) { workloadOf(o)["spec"].(obj)["replicas"] = 3 }, "3 replicas: the embedded bus"},
		{"config mount", embedded, func(o []obj) { mountOf(o, "config")["mountPath"] = "/etc/eb" }, "is on no ConfigMap mount"},
		{"unknown flag", embedded, func(o []obj) {
			containerOf(o)["args"] = []any{"serve", "--configfile", "/etc/eventbridge/eventbridge.yaml"}
		}, "serve has no flag --configfile"},
		{"not serve", embedded, func(o []obj) { containerOf(o)["args"] = []any{"version"} }, "not serve"},
		{"grace period", embedded, func(o []obj) { getMap(workloadOf(o), "spec", "template", "spec")["terminationGracePeriodSeconds"] = 30 }, "terminationGracePeriodSeconds 30 is not above shutdown_timeout 30s"},
		{"secret key", embedded, func(o []obj) {
			getMap(containerOf(o), "env", "0", "valueFrom", "secretKeyRef")["key"] = "admin-token"
		}, "no Secret eventbridge-admin-token with key admin-token"},
		{"env variable", embedded, func(o []obj) { getMap(containerOf(o), "env", "0")["name"] = "ADMIN_TOKEN" }, "${env:EVENTBRIDGE_ADMIN_TOKEN}, which is not set"},
		{"root filesystem", embedded, func(o []obj) { getMap(containerOf(o), "securityContext")["readOnlyRootFilesystem"] = false }, "readOnlyRootFilesystem is not true"},
		{"user", embedded, func(o []obj) {
			getMap(workloadOf(o), "spec", "template", "spec", "securityContext")["runAsUser"] = 1000
		}, "runAsUser"},
		{"service port", embedded, func(o []obj) {
			getMap(find(o, "Service", "eventbridge")[0], "spec", "ports", "0")["targetPort"] = "web"
		}, "targetPort \"web\""},
		{"double scrape", embedded, func(o []obj) {
			delete(getMap(find(o, "ServiceMonitor", "")[0], "spec", "selector"), "matchExpressions")
		}, "selects 2 Services"},
		{"no PDB", external, func(o []obj) {
			for i, x := range o {
				if getString(x, "kind") == "PodDisruptionBudget" {
					o[i] = obj{"kind": "ConfigMap", "metadata": obj{"name": "unrelated"}}
				}
			}
		}, "2 replicas and no PodDisruptionBudget"},
		{"embedded bus in a Deployment", external, func(o []obj) {
			cm := getMap(find(o, "ConfigMap", "eventbridge-config")[0], "data")
			cm["eventbridge.yaml"] = strings.Replace(cm["eventbridge.yaml"].(string), "url: nats://nats.nats.svc.cluster.local:4222", "data_dir: /data", 1)
		}, "needs a StatefulSet with a volume, not a Deployment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := deepCopy(t, tc.base)
			tc.break_(objs)
			expectProblem(t, checkCluster(t, cluster{objs: objs, secrets: secrets}), tc.want)
		})
	}
}

func TestMonitoringChecksCatchMistakes(t *testing.T) {
	ms := exportedMetrics(t)
	dash := string(readFile(t, "grafana/eventbridge.json"))
	for _, tc := range []struct{ old, new, want string }{
		{"eventbridge_dlq_messages{", "eventbridge_dead_letters{", "exports no metric eventbridge_dead_letters"},
		{`eventbridge_rule_matched_total{job=~\"$job\"`, `eventbridge_rule_matched_total{job=~\"$job\", target=\"x\"`, "has no label target"},
		{"max by (rule, target) (eventbridge_rule_pending{", "max by (rule, target) (rate(eventbridge_rule_pending{", "not a counter"},
		{`"{{rule}}"`, `"{{connector}}"`, "legend {{connector}}"},
		{"sum by (source, reason)", "sum by (source, cause)", "groups by cause"},
		{`"uid": "${DS_PROMETHEUS}"`, `"uid": "prometheus"`, "datasource \"prometheus\""},
	} {
		broken := strings.Replace(dash, tc.old, tc.new, 1)
		if broken == dash {
			t.Fatalf("%q is not in the dashboard", tc.old)
		}
		p, _ := checkDashboard([]byte(broken), ms)
		expectProblem(t, p, tc.want)
	}
	alerts := string(readFile(t, "prometheus/alerts.yaml"))
	for _, tc := range []struct{ old, new, want string }{
		{"deriv(eventbridge_rule_pending", "deriv(eventbridge_rules_pending", "exports no metric eventbridge_rules_pending"},
		{"increase(eventbridge_transform_errors_total", "delta(eventbridge_transform_errors_total", "which is a counter"},
		{"transform of rule {{ $labels.rule }}", "transform of rule {{ $labels.target }}", "$labels.target"},
	} {
		broken := strings.Replace(alerts, tc.old, tc.new, 1)
		if broken == alerts {
			t.Fatalf("%q is not in the alerts", tc.old)
		}
		docs, err := decodeDocs([]byte(broken))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := checkAlerts(docs, ms)
		expectProblem(t, p, tc.want)
	}
}

func TestImageAndUnitChecksCatchMistakes(t *testing.T) {
	dockerfile, makefile, gomod := string(readFile(t, "../Dockerfile")), string(readFile(t, "../Makefile")), string(readFile(t, "../go.mod"))
	files := map[string][]byte{"deploy/eventbridge.yaml": readFile(t, "eventbridge.yaml")}
	for _, tc := range []struct{ old, new, want string }{
		{`"--config", "/etc/eventbridge/eventbridge.yaml"]`, `"--cfg", "/etc/eventbridge/eventbridge.yaml"]`, "serve has no flag --cfg"},
		{`"--config", "/etc/eventbridge/eventbridge.yaml"]`, `"--config", "/etc/eventbridge.yaml"]`, "the image copies no config there"},
		{"EXPOSE 8080", "EXPOSE 9090", "but EXPOSE 9090"},
		{"VOLUME /data", "VOLUME /var/lib/eventbridge", "but the VOLUME is"},
		{"USER 65532:65532", "USER root", "USER \"root\""},
		{"go build -trimpath", "go build", "go build lacks -trimpath"},
		{"version.GitTag=${GITTAG}", "version.Tag=${GITTAG}", "the Makefile's are"},
		{"ARG GO_VERSION=1.26", "ARG GO_VERSION=1.25", "want golang:1.26"},
	} {
		broken := strings.Replace(dockerfile, tc.old, tc.new, 1)
		if broken == dockerfile {
			t.Fatalf("%q is not in the Dockerfile", tc.old)
		}
		expectProblem(t, checkDockerfile(t, broken, makefile, gomod, files), tc.want)
	}
	unit := string(readFile(t, "systemd/eventbridge.service"))
	cfg := readFile(t, "eventbridge.yaml")
	for _, tc := range []struct{ old, new, want string }{
		{"TimeoutStopSec=45s", "TimeoutStopSec=30s", "TimeoutStopSec=30s is not above"},
		{"--data-dir /var/lib/eventbridge", "--data-dir /srv/eventbridge", "but StateDirectory=eventbridge"},
		{"--data-dir /var/lib/eventbridge", "--datadir /var/lib/eventbridge", "serve has no flag --datadir"},
		{"ReadWritePaths=/var/lib/eventbridge", "ReadWritePaths=/var/lib/other", "lacks the data directory"},
	} {
		broken := strings.Replace(unit, tc.old, tc.new, 1)
		if broken == unit {
			t.Fatalf("%q is not in the unit", tc.old)
		}
		expectProblem(t, checkUnit(t, broken, cfg), tc.want)
	}
}
