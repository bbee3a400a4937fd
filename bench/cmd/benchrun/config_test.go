package main

import (
	"strings"
	"testing"
	"time"
)

func TestQuickPresetYieldsToExplicitFlags(t *testing.T) {
	c, err := parseFlags([]string{"--quick", "--sat-duration", "7s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rounds != 1 || c.FixedDuration != 3*time.Second || c.SatDuration != 7*time.Second {
		t.Fatalf("rounds %d fixed %v sat %v", c.Rounds, c.FixedDuration, c.SatDuration)
	}
	if c.Flags["sat-duration"] != "7s" || c.Flags["rounds"] != "1" {
		t.Fatalf("recorded flags %v", c.Flags)
	}
}

func TestDefaults(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.BridgeBin != "bin/eventbridge" || c.Rate != 2000 || c.Concurrency != 32 || c.Rounds != 2 ||
		strings.Join(c.Middleboxes, ",") != "none,forwarder,bridge" || !c.has(scenSaturation) || !c.has(scenFixed) ||
		strings.Join(c.Scenarios, ",") != "http,nats,mqtt,kafka,cluster" || strings.Join(c.boxesOf(scenKafka), ",") != "direct,bridge" ||
		strings.Join(c.boxesOf(scenCluster), ",") != "1-replica,3-replicas" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := parseFlags([]string{"--middleboxes", "none,proxy", "--scenarios", "amqp,fixed", "--loads", "burst", "--rounds", "0"})
	if err == nil {
		t.Fatal("bad flags accepted")
	}
	for _, want := range []string{`"proxy"`, `"amqp"`, "use --loads fixed", `"burst"`, "--rounds"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestBridgeConfig(t *testing.T) {
	got := bridgeConfig("/tmp/xyz/data", 8081, "http://127.0.0.1:8090/", false)
	want := `bus:
  data_dir: /tmp/xyz/data
api:
  listen: 127.0.0.1:8081
sources:
  in: {type: http, path: /events}
targets:
  sink: {type: http, url: "http://127.0.0.1:8090/", mode: binary}
rules:
  forward:
    filter: {filters: [{prefix: {type: "com.example."}}]}
    targets: [sink]
`
	if got != want {
		t.Fatalf("config:\n%s\nwant:\n%s", got, want)
	}
	got = bridgeConfig("/tmp/a dir: x/data", 1, "http://h/", true)
	if !strings.Contains(got, "data_dir: \"/tmp/a dir: x/data\"\n") || !strings.Contains(got, "  listen: 127.0.0.1:1\n  pprof: true\n") {
		t.Fatalf("quoted path or pprof missing:\n%s", got)
	}
}
