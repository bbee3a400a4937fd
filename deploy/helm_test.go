package deploy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/goccy/go-yaml"
)

// helm is not installable here, so the chart is rendered with text/template
// and the few Sprig functions it uses, implemented below as Sprig defines
// them. The chart must keep to this set: a template that calls anything
// else fails to parse here. Missing values are errors (Helm would render
// them empty), which catches misspelt .Values paths.

const chartDir = "helm/eventbridge"

func helmFuncs(t *template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"toYaml": func(v any) (string, error) {
			b, err := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n"), err
		},
		"indent": indent,
		"nindent": func(n int, s string) string {
			return "\n" + indent(n, s)
		},
		"quote": func(args ...any) string {
			var out []string
			for _, a := range args {
				if a != nil {
					out = append(out, fmt.Sprintf("%q", fmt.Sprint(a)))
				}
			}
			return strings.Join(out, " ")
		},
		"default": func(d any, given ...any) any {
			if len(given) == 0 || empty(given[0]) {
				return d
			}
			return given[0]
		},
		"required": func(msg string, v any) (any, error) {
			if v == nil || v == "" {
				return nil, fmt.Errorf("%s", msg)
			}
			return v, nil
		},
		"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"trunc": func(n int, s string) string {
			switch {
			case n >= 0 && len(s) > n:
				return s[:n]
			case n < 0 && len(s) > -n:
				return s[len(s)+n:]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"sha256sum": func(s string) string {
			h := sha256.Sum256([]byte(s))
			return hex.EncodeToString(h[:])
		},
	}
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// empty is Sprig's notion of an unset value.
func empty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return rv.Len() == 0
	case reflect.Bool:
		return !rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() == 0
	}
	return false
}

// rendered is a chart rendered for one set of values.
type rendered struct {
	objs  []obj
	notes string
}

// renderChart renders every template with values.yaml plus overrides
// (dotted paths, as helm's --set).
func renderChart(t *testing.T, overrides map[string]any) (rendered, error) {
	t.Helper()
	chart := readDocs(t, filepath.Join(chartDir, "Chart.yaml"))[0]
	values := readDocs(t, filepath.Join(chartDir, "values.yaml"))[0]
	for k, v := range overrides {
		m := values
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	data := map[string]any{
		"Values":  values,
		"Release": map[string]any{"Name": "eb", "Namespace": "events", "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Chart":   map[string]any{"Name": getString(chart, "name"), "Version": getString(chart, "version"), "AppVersion": getString(chart, "appVersion")},
	}
	tmpl := template.New(chartDir).Option("missingkey=error")
	tmpl.Funcs(helmFuncs(tmpl))
	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		if _, err := tmpl.New(filepath.Base(f)).Parse(string(readFile(t, f))); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var out rendered
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var b strings.Builder
		if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
			return rendered{}, err
		}
		if name == "NOTES.txt" {
			out.notes = b.String()
			continue
		}
		docs, err := decodeDocs([]byte(b.String()))
		if err != nil {
			t.Fatalf("%s renders invalid YAML: %v\n%s", name, err, b.String())
		}
		out.objs = append(out.objs, docs...)
	}
	return out, nil
}

func TestHelmChartMetadata(t *testing.T) {
	chart := readDocs(t, filepath.Join(chartDir, "Chart.yaml"))[0]
	if getString(chart, "apiVersion") != "v2" || getString(chart, "name") != filepath.Base(chartDir) {
		t.Errorf("Chart.yaml: apiVersion %q name %q", getString(chart, "apiVersion"), getString(chart, "name"))
	}
	if getString(chart, "version") == "" || getString(chart, "appVersion") == "" {
		t.Error("Chart.yaml: version and appVersion are required")
	}
	for _, f := range []string{"values.yaml", "templates/_helpers.tpl", "templates/NOTES.txt"} {
		if _, err := os.Stat(filepath.Join(chartDir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestHelmChartAgreesWithTheBinary(t *testing.T) {
	mine := []obj{{"kind": "Secret", "metadata": obj{"name": "my-token"}, "data": obj{"token": "eA=="}}}
	cases := []struct {
		name      string
		set       map[string]any
		workload  string
		replicas  int64
		secret    bool
		monitored bool
	}{
		{name: "defaults", workload: "StatefulSet", replicas: 1},
		{name: "embedded with a token and a ServiceMonitor", set: map[string]any{
			"adminToken.value": testToken, "serviceMonitor.enabled": true,
		}, workload: "StatefulSet", replicas: 1, secret: true, monitored: true},
		{name: "external", set: map[string]any{
			"bus.mode": "external", "bus.url": "nats://nats:4222", "adminToken.value": testToken,
		}, workload: "Deployment", replicas: 2, secret: true},
		{name: "external with an existing Secret and credentials", set: map[string]any{
			"bus.mode": "external", "bus.url": "nats://a:4222,nats://b:4222", "bus.replicas": 3, "bus.credentialsSecret": "nats-creds",
			"adminToken.existingSecret": "my-token", "replicaCount": 3, "serviceMonitor.enabled": true,
		}, workload: "Deployment", replicas: 3, monitored: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := renderChart(t, tc.set)
			if err != nil {
				t.Fatal(err)
			}
			checkCluster(t, cluster{objs: r.objs, secrets: mine}).report(t, tc.name)
			ws := find(r.objs, tc.workload, "")
			if len(ws) != 1 || len(find(r.objs, "StatefulSet", ""))+len(find(r.objs, "Deployment", "")) != 1 {
				t.Fatalf("want exactly one %s", tc.workload)
			}
			if n, _ := getInt(ws[0], "spec", "replicas"); n != tc.replicas {
				t.Errorf("%d replicas, want %d", n, tc.replicas)
			}
			if got := len(find(r.objs, "Secret", "")) == 1; got != tc.secret {
				t.Errorf("Secret rendered: %v, want %v", got, tc.secret)
			}
			if got := len(find(r.objs, "ServiceMonitor", "")) == 1; got != tc.monitored {
				t.Errorf("ServiceMonitor rendered: %v, want %v", got, tc.monitored)
			}
			if !strings.Contains(r.notes, "eb-eventbridge") {
				t.Errorf("NOTES.txt does not name the release:\n%s", r.notes)
			}
			for _, o := range r.objs {
				if getString(o, "metadata", "labels", "app.kubernetes.io/instance") != "eb" {
					t.Errorf("%s: no app.kubernetes.io/instance label", kindName(o))
				}
			}
		})
	}
}

func TestHelmChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]any
		want string
	}{
		{map[string]any{"bus.mode": "external"}, "bus.url is required"},
		{map[string]any{"bus.mode": "cluster"}, "bus.mode must be embedded or external"},
	} {
		if _, err := renderChart(t, tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.set, err, tc.want)
		}
	}
}
