package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// box is a running middlebox: where to send events and which process to
// watch. For "none" the events go straight to the sink and proc is nil.
type box struct {
	kind      string
	proc      *child
	bin       string // the middlebox's binary, for pprof symbols
	ingestURL string
	pprofURL  string // base of /debug/pprof/, empty when not profiling
}

// startBox starts middlebox kind in front of the sink at sinkURL. Its log
// and configuration go to logDir, the bridge's data to dataDir. With profile
// set it exposes /debug/pprof.
func (r *runner) startBox(ctx context.Context, kind, sinkURL, logDir, dataDir string, profile bool) (*box, error) {
	if kind == boxNone {
		return &box{kind: kind, ingestURL: sinkURL}, nil
	}
	b := &box{kind: kind, bin: r.bridgeBin}
	fake := kind == boxBridge && r.cfg.FakeBridge
	if kind == boxForwarder || fake {
		b.bin = r.bins.forwarder
	}
	cfgPath := filepath.Join(logDir, "bridge.yaml")
	argv := func(port int) ([]string, error) {
		if kind == boxBridge {
			// The fake bridge is given the config too, to show what the
			// real one would get, though it reads only its flags.
			if err := writeBridgeConfig(cfgPath, dataDir, port, sinkURL, profile); err != nil {
				return nil, err
			}
			if !fake {
				return []string{"serve", "--config", cfgPath}, nil
			}
		}
		// The forwarder, or the fake bridge: the forwarder on the
		// bridge's ingest path, so the runner's bridge path is exercised.
		args := []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--target", sinkURL}
		if kind == boxBridge {
			args = append(args, "--path", "/events")
		}
		if profile {
			args = append(args, "--pprof")
		}
		return args, nil
	}
	if kind == boxBridge {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, err
		}
	}
	proc, port, err := r.startServer(ctx, kind, logDir, b.bin, r.cfg.ReadyTimeout, argv)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	b.proc, b.ingestURL = proc, base+"/"
	if kind == boxBridge {
		b.ingestURL = base + "/events"
	}
	if profile {
		b.pprofURL = base + "/debug/pprof/"
	}
	return b, nil
}

// startServer starts bin on a free loopback port (argv turns the port into
// arguments) and waits for GET /readyz to answer 200. A process that exits
// before it is ready is started once more on another port: the free port
// may have been taken by another program in between.
func (r *runner) startServer(ctx context.Context, name, logDir, bin string, timeout time.Duration,
	argv func(port int) ([]string, error)) (*child, int, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		args, err := argv(port)
		if err != nil {
			return nil, 0, err
		}
		c, err := startChild(name, logDir, bin, args...)
		if err != nil {
			return nil, 0, err
		}
		err = c.waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", port), timeout)
		if err == nil {
			return c, port, nil
		}
		exited := c.exited()
		c.stop(stopGrace)
		if !exited || attempt == 2 || ctx.Err() != nil {
			return nil, 0, err
		}
	}
}

// writeBridgeConfig writes the bridge's configuration to path: one HTTP
// source, one HTTP target (the sink) and one rule between them, with the
// bus's data in dataDir.
func writeBridgeConfig(path, dataDir string, port int, sinkURL string, pprof bool) error {
	return os.WriteFile(path, []byte(bridgeConfig(dataDir, port, sinkURL, pprof)), 0o644)
}

// bridgeConfig renders the bridge's configuration for the benchmark.
func bridgeConfig(dataDir string, port int, sinkURL string, pprof bool) string {
	return renderBridgeConfig(dataDir, port, pprof, "{type: http, path: /events}",
		"{type: http, url: "+strconv.Quote(sinkURL)+", mode: binary}")
}

var plainScalar = regexp.MustCompile(`^[A-Za-z0-9/._-]+$`)

// yamlScalar writes s plain when that is unambiguous, else double-quoted
// (YAML double-quoted strings take Go's escapes for these characters).
func yamlScalar(s string) string {
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}
