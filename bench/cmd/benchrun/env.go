package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// machine describes where the run happened: compare figures across
// machines only as ratios.
type machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	Go        string `json:"go"`
	LoadAvg   string `json:"loadavg_at_start,omitempty"`
	GoMaxProc string `json:"gomaxprocs_env,omitempty"`
}

func readMachine() machine {
	m := machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version(),
		GoMaxProc: os.Getenv("GOMAXPROCS")}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		m.LoadAvg = strings.Join(f[:min(3, len(f))], " ")
	}
	return m
}

func (m machine) String() string {
	s := fmt.Sprintf("%s/%s, %d CPUs, %s", m.GOOS, m.GOARCH, m.CPUs, m.Go)
	if m.LoadAvg != "" {
		s += ", load average " + m.LoadAvg
	}
	return s
}

// resolveBridge returns the bridge binary's absolute path, or why no
// bridge can run.
func resolveBridge(cfg *config) (path, missing string) {
	if cfg.FakeBridge {
		return "", ""
	}
	abs, err := filepath.Abs(cfg.BridgeBin)
	if err != nil {
		return "", err.Error()
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		return abs, fmt.Sprintf("no bridge binary at %s (build it first: make build)", cfg.BridgeBin)
	case fi.IsDir() || fi.Mode()&0o111 == 0:
		return abs, fmt.Sprintf("%s is not an executable file", cfg.BridgeBin)
	}
	return abs, ""
}

// write saves the report as results.json in dir and returns its path.
func (rep *report) write(dir string) (string, error) {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "results.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// progressLine is printed as each sample ends.
func progressLine(s sample) string {
	head := fmt.Sprintf("  round %d %-5s %-9s", s.Round, s.Scenario, s.Middlebox)
	if s.Unavailable != "" {
		return head + " unavailable: " + firstLine(s.Unavailable)
	}
	out := head
	if p := s.Saturation; p != nil {
		out += fmt.Sprintf(" sat %6.0f ev/s delivered", p.DeliveredRate)
	}
	if p := s.Fixed; p != nil {
		out += fmt.Sprintf(" | fixed e2e p50 %.2f p99 %.2f ms", p.Sink.P50, p.Sink.P99)
	}
	if s.PeakRSS > 0 {
		out += fmt.Sprintf(" | peak RSS %.0f MiB", float64(s.PeakRSS)/(1<<20))
	}
	var other float64
	for _, p := range []*phase{s.Saturation, s.Fixed} {
		if p != nil {
			other = max(other, p.OtherCPUCores)
		}
	}
	if other > noisyCores {
		out += fmt.Sprintf(" | other processes: %.1f cores", other)
	}
	if s.Error != "" {
		out += " | error: " + firstLine(s.Error)
	}
	return out
}
