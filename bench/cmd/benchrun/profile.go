package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// profileBox takes a CPU profile of middlebox kind at saturation, in a run
// of its own so the profiler's cost does not touch the measured rounds.
// It saves DIR/<kind>.pprof and DIR/<kind>-top.txt and prints the top 25.
func (r *runner) profileBox(ctx context.Context, kind string, w io.Writer) (string, error) {
	logDir := filepath.Join(r.runDir, "profile-"+kind)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return "", err
	}
	e, err := r.startEnv(ctx, kind, logDir, true)
	if err != nil {
		return "", err
	}
	defer e.close()
	if _, err := r.measure(ctx, e, scenSaturation, r.cfg.Warmup); err != nil {
		return "", fmt.Errorf("warm-up: %w", err)
	}
	return r.profileEnv(ctx, e, kind, w)
}

// profileEnv takes a CPU profile of e's middlebox (which exposes pprof) at
// saturation. It saves DIR/<name>.pprof and DIR/<name>-top.txt and prints
// the top 25.
func (r *runner) profileEnv(ctx context.Context, e *env, name string, w io.Writer) (string, error) {
	if err := os.MkdirAll(r.cfg.ProfileDir, 0o755); err != nil {
		return "", err
	}
	secs := r.cfg.ProfileSeconds
	// Load runs a second longer on each side of the profile.
	loadDone := make(chan error, 1)
	go func() {
		_, err := r.runLoadgen(ctx, e.box.ingestURL, scenSaturation, time.Duration(secs+2)*time.Second)
		loadDone <- err
	}()
	select {
	case <-time.After(time.Second):
	case err := <-loadDone:
		return "", fmt.Errorf("load: %w", err)
	}
	out := filepath.Join(r.cfg.ProfileDir, name+".pprof")
	fetchErr := fetchProfile(ctx, e.box.pprofURL, secs, out)
	if err := <-loadDone; err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	if fetchErr != nil {
		return "", fetchErr
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", e.box.bin, out).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("go tool pprof: %w: %s", err, top)
	}
	_ = os.WriteFile(filepath.Join(r.cfg.ProfileDir, name+"-top.txt"), top, 0o644)
	fmt.Fprintf(w, "\n== CPU profile of %s at saturation (%ds): %s ==\n%s", name, secs, out, top)
	return out, nil
}

// fetchProfile saves a CPU profile of secs seconds from a pprof endpoint.
func fetchProfile(ctx context.Context, pprofURL string, secs int, path string) error {
	url := fmt.Sprintf("%sprofile?seconds=%d", pprofURL, secs)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("fetch profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("fetch profile %s: %s: %s", url, resp.Status, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("fetch profile: %w", err)
	}
	return f.Close()
}

// profileBrokerBridge takes a CPU profile of the bridge of broker scenario
// scen at saturation, in a run of its own like profileBox. It saves
// DIR/bridge-<scen>.pprof and DIR/bridge-<scen>-top.txt and prints the top 25.
func (r *runner) profileBrokerBridge(ctx context.Context, scen string, w io.Writer) (string, error) {
	logDir := filepath.Join(r.runDir, "profile-"+scen+"-bridge")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return "", err
	}
	e, err := r.startBrokerEnv(ctx, scen, boxBridge, logDir, true)
	if e != nil {
		defer e.close()
	}
	if err != nil {
		return "", err
	}
	if _, err := r.measureBroker(ctx, e, scenSaturation, r.cfg.Warmup); err != nil {
		return "", fmt.Errorf("warm-up: %w", err)
	}
	secs := r.cfg.ProfileSeconds
	// Load runs a second longer on each side of the profile.
	loadDone := make(chan error, 1)
	go func() {
		_, err := r.measureBroker(ctx, e, scenSaturation, time.Duration(secs+2)*time.Second)
		loadDone <- err
	}()
	select {
	case <-time.After(time.Second):
	case err := <-loadDone:
		return "", fmt.Errorf("load: %w", err)
	}
	out := filepath.Join(r.cfg.ProfileDir, "bridge-"+scen+".pprof")
	fetchErr := fetchProfile(ctx, e.pprofURL, secs, out)
	if err := <-loadDone; err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	if fetchErr != nil {
		return "", fetchErr
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", r.bridgeBin, out).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("go tool pprof: %w: %s", err, top)
	}
	_ = os.WriteFile(filepath.Join(r.cfg.ProfileDir, "bridge-"+scen+"-top.txt"), top, 0o644)
	fmt.Fprintf(w, "\n== CPU profile of the %s bridge at saturation (%ds): %s ==\n%s", scen, secs, out, top)
	return out, nil
}
