package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is what a run found, as printed and as written to results.json.
type report struct {
	RunID   string            `json:"run_id"`
	Machine machine           `json:"machine"`
	Flags   map[string]string `json:"flags"`
	Samples []sample          `json:"samples"`
	Boxes   []boxSummary      `json:"summary"`
	// SatRatio and CPURatio are bridge/forwarder, round by round.
	SatRatio spread   `json:"bridge_forwarder_sat_ratio"`
	CPURatio spread   `json:"bridge_forwarder_cpu_ratio"`
	Floors   []floor  `json:"floors"`
	Profiles []string `json:"profiles,omitempty"`
	// Brokers are the broker scenarios' figures.
	Brokers []brokerReport `json:"brokers,omitempty"`
	// Scale are the scale scenarios' figures (scale.go).
	Scale []scaleReport `json:"scale,omitempty"`
}

// brokerReport is one broker scenario's figures: direct and bridge, and
// bridge/direct ratios round by round.
type brokerReport struct {
	Scenario string       `json:"scenario"`
	Boxes    []boxSummary `json:"summary"`
	SatRatio spread       `json:"bridge_direct_sat_ratio"`
	P99Ratio spread       `json:"bridge_direct_p99_ratio"`
}

// scenarioTitles name the scenarios in the report.
var scenarioTitles = map[string]string{
	scenHTTP:  "HTTP in → rule → HTTP out",
	scenNATS:  "NATS → rule → NATS (core NATS)",
	scenMQTT:  "MQTT → rule → HTTP (QoS 1, mosquitto)",
	scenKafka: "Kafka → rule → Kafka (acks=all, kfake)",
}

// samplesOf returns the samples of scenario scen.
func samplesOf(samples []sample, scen string) []sample {
	var out []sample
	for _, s := range samples {
		if s.Scenario == scen {
			out = append(out, s)
		}
	}
	return out
}

// build fills the summaries, ratios and floors from the samples.
func (rep *report) build(cfg *config) {
	rep.Boxes, rep.Brokers = nil, nil
	for _, scen := range cfg.Scenarios {
		if isScale(scen) {
			continue
		}
		samples := samplesOf(rep.Samples, scen)
		if scen != scenHTTP {
			b := brokerReport{Scenario: scen,
				SatRatio: roundRatios(samples, boxBridge, boxDirect, satRate),
				P99Ratio: roundRatios(samples, boxBridge, boxDirect, fixedP99)}
			for _, kind := range cfg.boxesOf(scen) {
				b.Boxes = append(b.Boxes, summarize(kind, samples))
			}
			rep.Brokers = append(rep.Brokers, b)
			continue
		}
		for _, kind := range cfg.Middleboxes {
			rep.Boxes = append(rep.Boxes, summarize(kind, samples))
		}
		rep.SatRatio = roundRatios(samples, boxBridge, boxForwarder, satRate)
		rep.CPURatio = roundRatios(samples, boxBridge, boxForwarder, satCPU)
		rep.Floors = checkFloors(summarize(boxBridge, samples), rep.SatRatio, cfg.Rate)
	}
}

// print writes the table, the ratios, the floors and any notes.
func (rep *report) print(w io.Writer, cfg *config) {
	fmt.Fprintf(w, "\n== eventbridge bench %s: %d round(s); figures are min–max over rounds ==\n", rep.RunID, cfg.Rounds)
	if slices.Contains(cfg.Scenarios, scenHTTP) {
		fmt.Fprintf(w, "\n-- http: %s --\n", scenarioTitles[scenHTTP])
		printTable(w, rep.Boxes, cfg, "accepted")
		fmt.Fprintln(w, "\nbridge/forwarder, round by round:")
		fmt.Fprintf(w, "  delivered throughput at saturation: %s\n", fmtRatio(rep.SatRatio, boxForwarder))
		fmt.Fprintf(w, "  CPU per event at saturation:        %s\n", fmtRatio(rep.CPURatio, boxForwarder))
		fmt.Fprintln(w)
		for _, f := range rep.Floors {
			fmt.Fprintf(w, "floor %-4s %s: %s\n", f.Verdict, f.Name, f.Detail)
		}
	}
	for _, b := range rep.Brokers {
		fmt.Fprintf(w, "\n-- %s: %s --\n", b.Scenario, scenarioTitles[b.Scenario])
		printTable(w, b.Boxes, cfg, "published")
		fmt.Fprintln(w, "bridge/direct, round by round:")
		fmt.Fprintf(w, "  delivered throughput at saturation: %s\n", fmtRatio(b.SatRatio, boxDirect))
		fmt.Fprintf(w, "  e2e p99 at %g/s:                  %s\n", cfg.Rate, fmtRatio(b.P99Ratio, boxDirect))
	}
	for _, s := range rep.Scale {
		s.print(w)
	}
	if notes := rep.notes(cfg); len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(n, "\n", "\n    "))
		}
	}
}

// printTable writes one scenario's table; accepted names what the load
// generator counts as sent (2xx answers, broker acknowledgements).
func printTable(w io.Writer, boxes []boxSummary, cfg *config, accepted string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "middlebox\tdelivered ev/s (sat)\t%s ev/s (sat)\te2e p50 ms @%g/s\te2e p99 ms @%g/s\tpeak RSS MiB\tCPU µs/ev sat\tCPU µs/ev @%g/s\n",
		accepted, cfg.Rate, cfg.Rate, cfg.Rate)
	for _, b := range boxes {
		name := b.Middlebox
		if name == boxBridge && cfg.FakeBridge && accepted == "accepted" {
			name = "bridge (fake)"
		}
		if b.Unavailable != "" {
			fmt.Fprintf(tw, "%s\tunavailable: %s\n", name, b.Unavailable)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name,
			fmtSpread(b.SatRate, fmtRate), fmtSpread(b.AcceptedRate, fmtRate),
			fmtSpread(b.P50, fmtMS), fmtSpread(b.P99, fmtMS),
			fmtSpread(b.PeakRSSMiB, fmtMiB),
			fmtSpread(b.SatCPU, fmtUS), fmtSpread(b.FixedCPU, fmtUS))
	}
	tw.Flush()
}

// noisyCores is the CPU use by other processes, in cores, above which a
// phase's figures are flagged as disturbed.
const noisyCores = 0.25

// notes lists what makes a sample's figures suspect.
func (rep *report) notes(cfg *config) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range rep.Samples {
		label := s.Middlebox
		if s.Scenario != scenHTTP {
			label = s.Scenario + " " + s.Middlebox
		}
		who := fmt.Sprintf("%s round %d", label, s.Round)
		if s.Unavailable != "" {
			add(fmt.Sprintf("%s unavailable: %s", label, s.Unavailable))
		}
		if s.Error != "" {
			add(fmt.Sprintf("%s: %s", who, s.Error))
		}
		for _, p := range []*phase{s.Saturation, s.Fixed} {
			if p == nil {
				continue
			}
			l := p.Load
			if l.Errors+l.Non2xx > 0 {
				add(fmt.Sprintf("%s %s: %d transport errors, %d non-2xx answers (first error: %s)",
					who, p.Scenario, l.Errors, l.Non2xx, l.FirstError))
			}
			if !p.Drained || p.Lost > 0 {
				add(fmt.Sprintf("%s %s: %d of %d accepted events had not arrived when the drain ended after %.0f s", who, p.Scenario, p.Lost, l.OK, p.DrainSec))
			}
			if p.OtherCPUCores > noisyCores {
				add(fmt.Sprintf("%s %s: other processes used %.1f of %d cores: figures disturbed",
					who, p.Scenario, p.OtherCPUCores, rep.Machine.CPUs))
			}
			if p.Sink.Stale > 0 {
				add(fmt.Sprintf("%s %s: %d events of the previous phase arrived during this one (not counted)", who, p.Scenario, p.Sink.Stale))
			}
			if p.Sink.Duplicates > 0 {
				add(fmt.Sprintf("%s %s: %d duplicate deliveries", who, p.Scenario, p.Sink.Duplicates))
			}
			if p.Scenario == scenFixed && l.AchievedRate < 0.95*cfg.Rate {
				add(fmt.Sprintf("%s fixed: only %.0f of %g events/s sent (max lateness %.0f ms): latency is that of an overloaded system",
					who, l.AchievedRate, cfg.Rate, l.MaxLateMS))
			}
		}
	}
	return out
}

func fmtSpread(s spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || f(s.Min) == f(s.Max) {
		return f(s.Min)
	}
	return f(s.Min) + "–" + f(s.Max)
}

func fmtRatio(s spread, base string) string {
	if s.N == 0 {
		return "— (needs " + base + " and bridge in the same round)"
	}
	f := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	return fmt.Sprintf("%s (median %.2f)", fmtSpread(s, f), s.Median)
}

func fmtRate(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtMS(v float64) string  { return fmt.Sprintf("%.2f", v) }
func fmtMiB(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmtUS(v float64) string  { return fmt.Sprintf("%.0f", v) }
