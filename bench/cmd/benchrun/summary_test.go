package main

import (
	"math"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

func mkSample(box string, round int, rate, p99 float64, rssMiB uint64) sample {
	return mkScenSample(scenHTTP, box, round, rate, p99, rssMiB)
}

func mkScenSample(scen, box string, round int, rate, p99 float64, rssMiB uint64) sample {
	return sample{
		Scenario:   scen,
		Middlebox:  box,
		Round:      round,
		Saturation: &phase{Scenario: scenSaturation, DeliveredRate: rate, CPUPerEventUS: 1e6 / rate},
		Fixed:      &phase{Scenario: scenFixed, Sink: sink.Stats{P50: p99 / 4, P99: p99}},
		PeakRSS:    rssMiB << 20,
	}
}

func TestSpread(t *testing.T) {
	s := spreadOf([]float64{3, 1, 2, 10})
	if s.N != 4 || s.Min != 1 || s.Max != 10 || s.Median != 2.5 {
		t.Fatalf("spread = %+v", s)
	}
	if (spreadOf(nil) != spread{}) {
		t.Fatal("empty spread not zero")
	}
}

func TestRatiosArePairedByRound(t *testing.T) {
	samples := []sample{
		mkSample(boxForwarder, 1, 10000, 1, 15), mkSample(boxBridge, 1, 7000, 3, 90),
		mkSample(boxBridge, 2, 5000, 4, 120), mkSample(boxForwarder, 2, 8000, 1, 15),
		{Middlebox: boxBridge, Round: 3, Unavailable: "crashed"}, mkSample(boxForwarder, 3, 9000, 1, 15),
	}
	r := roundRatios(samples, boxBridge, boxForwarder, satRate)
	if r.N != 2 || math.Abs(r.Min-0.625) > 1e-9 || math.Abs(r.Max-0.7) > 1e-9 {
		t.Fatalf("ratios = %+v, want 0.625 and 0.7", r)
	}
	b := summarize(boxBridge, samples)
	if b.Unavailable != "" || b.SatRate.N != 2 || b.P99.Max != 4 || b.PeakRSSMiB.Max != 120 {
		t.Fatalf("bridge summary = %+v", b)
	}
	fs := checkFloors(b, r, 2000)
	for i, want := range []string{"PASS", "PASS", "PASS"} {
		if fs[i].Verdict != want {
			t.Errorf("floor %q = %s (%s), want %s", fs[i].Name, fs[i].Verdict, fs[i].Detail, want)
		}
	}
}

func TestFloorsFailAndSkip(t *testing.T) {
	samples := []sample{mkSample(boxForwarder, 1, 10000, 1, 15), mkSample(boxBridge, 1, 4000, 6, 200)}
	b := summarize(boxBridge, samples)
	fs := checkFloors(b, roundRatios(samples, boxBridge, boxForwarder, satRate), 2000)
	for _, f := range fs {
		if f.Verdict != "FAIL" {
			t.Errorf("floor %q = %s (%s), want FAIL", f.Name, f.Verdict, f.Detail)
		}
	}
	missing := summarize(boxBridge, []sample{{Middlebox: boxBridge, Round: 1, Unavailable: "no binary\nmore"}})
	if missing.Unavailable != "no binary" {
		t.Fatalf("unavailable = %q", missing.Unavailable)
	}
	for _, f := range checkFloors(missing, spread{}, 2000) {
		if f.Verdict != "SKIP" {
			t.Errorf("floor %q = %s, want SKIP", f.Name, f.Verdict)
		}
	}
}

func TestReportPrintsEveryMiddlebox(t *testing.T) {
	cfg, _ := parseFlags([]string{"--fake-bridge"})
	rep := &report{RunID: "test", Samples: []sample{
		mkSample(boxNone, 1, 30000, 0.5, 0), mkSample(boxForwarder, 1, 15000, 1, 15), mkSample(boxBridge, 1, 9000, 2, 60),
		mkScenSample(scenKafka, boxDirect, 1, 40000, 3, 0), mkScenSample(scenKafka, boxBridge, 1, 10000, 6, 50),
		mkScenSample(scenKafka, boxBridge, 2, 12000, 9, 50), mkScenSample(scenKafka, boxDirect, 2, 40000, 3, 0),
	}}
	rep.build(cfg)
	var b strings.Builder
	rep.print(&b, cfg)
	out := b.String()
	for _, want := range []string{"none", "forwarder", "bridge (fake)", "30.0k", "0.60", "floor PASS",
		"-- kafka: Kafka", "10.0k–12.0k", "0.25–0.30 (median 0.28)", "2.00–3.00 (median 2.50)", "— (needs direct and bridge in the same round)", "-- cluster: HTTP in", "3 replicas/1 replica"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// The HTTP floors and ratios see only the http samples.
	if rep.SatRatio.N != 1 || len(rep.Brokers) != 4 || rep.Brokers[2].SatRatio.N != 2 {
		t.Errorf("http ratio %+v, brokers %+v", rep.SatRatio, rep.Brokers)
	}
}
