package deploy

import (
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/cli"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all" // the connector types configs may name
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// The paths the bridge serves for probes and scraping (internal/server);
// bridge_test.go checks that the binary answers on them.
const (
	livePath    = "/healthz"
	readyPath   = "/readyz"
	metricsPath = "/metrics"
)

// testToken stands in for the admin token wherever a config references one.
const testToken = "deploy-test-token-0123456789abcdef"

// serveArgs is a command line of `eventbridge serve` as the binary parses it.
type serveArgs struct {
	Config  string // --config/-c, with the binary's default when absent
	DataDir string // --data-dir, "" when absent
	Listen  string // --listen, "" when absent
}

// parseServe checks a command line (without the program name) against the
// binary's own command tree: it must name the serve command, and every flag
// must be one serve accepts. It returns the values the bridge would use.
func parseServe(args []string) (serveArgs, error) {
	root := cli.NewRoot(io.Discard, io.Discard)
	serve, rest, err := root.Find(args)
	if err != nil {
		return serveArgs{}, err
	}
	if serve.Name() != "serve" {
		return serveArgs{}, fmt.Errorf("%q runs %q, not serve", strings.Join(args, " "), serve.CommandPath())
	}
	for _, a := range rest {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if serve.Flags().Lookup(name) == nil {
				return serveArgs{}, fmt.Errorf("serve has no flag --%s", name)
			}
		}
	}
	if err := serve.ParseFlags(rest); err != nil {
		return serveArgs{}, fmt.Errorf("serve %s: %w", strings.Join(rest, " "), err)
	}
	if extra := serve.Flags().Args(); len(extra) > 0 {
		return serveArgs{}, fmt.Errorf("serve takes no arguments, got %q", extra)
	}
	var sa serveArgs
	sa.Config, _ = serve.Flags().GetString("config")
	sa.DataDir, _ = serve.Flags().GetString("data-dir")
	sa.Listen, _ = serve.Flags().GetString("listen")
	return sa, nil
}

var envRef = regexp.MustCompile(`\$\{env:([^}]*)\}`)

// yamlComment is a comment: from a # at the start of a line or after a blank.
var yamlComment = regexp.MustCompile(`(?m)(^|[ \t])#.*$`)

// envRefs lists the environment variables a config file references outside
// its comments.
func envRefs(data []byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range envRef.FindAllSubmatch(yamlComment.ReplaceAll(data, nil), -1) {
		if name := string(m[1]); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// parseConfig parses a config file the way serve does, with env set for the
// variables it references, and applies serve's flag overrides.
func parseConfig(t *testing.T, data []byte, env map[string]string, sa serveArgs) (*config.Config, error) {
	t.Helper()
	for _, name := range envRefs(data) {
		v, ok := env[name]
		if !ok {
			return nil, fmt.Errorf("the config references ${env:%s}, which is not set", name)
		}
		t.Setenv(name, v)
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimSpace(config.String(err)))
	}
	if sa.DataDir != "" {
		cfg.Bus.DataDir = sa.DataDir
	}
	if sa.Listen != "" {
		cfg.API.Listen = sa.Listen
	}
	return cfg, nil
}

// listenPort splits api.listen; reachable is false when it binds a loopback
// address, which nothing outside the host (probes, a Service) can reach.
func listenPort(listen string) (port string, reachable bool, err error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", false, err
	}
	ip := net.ParseIP(host)
	return port, host != "localhost" && (ip == nil || !ip.IsLoopback()), nil
}

// metric is one series name the bridge exposes and the labels it carries.
type metric struct {
	family string // the family it belongs to (for _bucket, _sum, _count)
	labels map[string]bool
	// counter is true for series that only go up: counters, and the
	// _bucket, _sum and _count of histograms and summaries.
	counter bool
}

// exportedMetrics returns every series name /metrics can show, from the
// registry telemetry.NewMetrics builds: each vector is touched once with
// placeholder label values so that Gather reports it with its label names.
// Histograms expose _bucket (with le), _sum and _count; summaries the
// family (with quantile), _sum and _count.
func exportedMetrics(t *testing.T) map[string]metric {
	t.Helper()
	m := telemetry.NewMetrics()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		get := f.MethodByName("GetMetricWithLabelValues")
		if !get.IsValid() {
			continue
		}
		touched := false
		for n := 0; n <= 8 && !touched; n++ {
			args := make([]reflect.Value, n)
			for j := range args {
				args[j] = reflect.ValueOf("x")
			}
			out := get.Call(args)
			touched = out[1].IsNil()
		}
		if !touched {
			t.Fatalf("telemetry.Metrics.%s: could not find its number of labels", v.Type().Field(i).Name)
		}
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]metric{}
	for _, fam := range families {
		labels := map[string]bool{}
		for _, s := range fam.GetMetric() {
			for _, lp := range s.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		with := func(extra string) map[string]bool {
			l := map[string]bool{extra: true}
			for k := range labels {
				l[k] = true
			}
			return l
		}
		name := fam.GetName()
		switch fam.GetType().String() {
		case "HISTOGRAM":
			out[name+"_bucket"] = metric{name, with("le"), true}
			out[name+"_sum"] = metric{name, labels, true}
			out[name+"_count"] = metric{name, labels, true}
		case "SUMMARY":
			out[name] = metric{name, with("quantile"), false}
			out[name+"_sum"] = metric{name, labels, true}
			out[name+"_count"] = metric{name, labels, true}
		case "COUNTER":
			out[name] = metric{name, labels, true}
		default:
			out[name] = metric{name, labels, false}
		}
	}
	return out
}

// bridgeFamilies lists the bridge's own metric families (eventbridge_*).
func bridgeFamilies(ms map[string]metric) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.family, "eventbridge_") && !seen[m.family] {
			seen[m.family] = true
			out = append(out, m.family)
		}
	}
	sort.Strings(out)
	return out
}

func TestExportedMetricsSeesEveryVector(t *testing.T) {
	ms := exportedMetrics(t)
	fams := bridgeFamilies(ms)
	if len(fams) < 15 {
		t.Fatalf("found %d eventbridge_* families, want every vector of telemetry.Metrics: %v", len(fams), fams)
	}
	for _, want := range []string{"eventbridge_delivery_latency_seconds_bucket", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := ms[want]; !ok {
			t.Errorf("%s missing from the exported metrics", want)
		}
	}
	if !ms["eventbridge_deliveries_total"].labels["outcome"] {
		t.Errorf("eventbridge_deliveries_total has no outcome label: %v", ms["eventbridge_deliveries_total"].labels)
	}
}

func TestParseServe(t *testing.T) {
	sa, err := parseServe([]string{"serve", "--config", "/etc/x.yaml", "--data-dir=/d"})
	if err != nil || sa.Config != "/etc/x.yaml" || sa.DataDir != "/d" {
		t.Errorf("got %+v, %v", sa, err)
	}
	if sa, err := parseServe([]string{"serve", "-c", "a.yaml"}); err != nil || sa.Config != "a.yaml" {
		t.Errorf("-c: got %+v, %v", sa, err)
	}
	for _, bad := range [][]string{
		{"serve", "--conf", "x"},
		{"serve", "--config"},
		{"serve", "x.yaml"},
		{"run", "--config", "x"},
		{"version"},
	} {
		if _, err := parseServe(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// readFile reads a file of the repository, failing the test on error.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
