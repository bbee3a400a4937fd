package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/lifecycle"
)

func newTally(stdout io.Writer) *cobra.Command {
	var (
		component, prefix, natsURL, server, token, listen string
		port                                              int
	)
	cmd := &cobra.Command{
		Use:   "tally --component C",
		Short: "Serve Prometheus metrics of a component's lifecycle events (Choria's tally)",
		Long: `Watch the lifecycle events of one component and serve Prometheus metrics with
the names and meanings of Choria's tally: <prefix>_good_events,
<prefix>_process_errors, <prefix>_event_types{type}, <prefix>_versions{version}
(hosts per version), <prefix>_processing_time, <prefix>_maintenance_time and
<prefix>_nodes_expired. Hosts not heard of for 80 minutes are forgotten.

Events come from a bridge (its live event stream, --server) or straight from
a NATS server (--nats: Choria's choria.lifecycle.event.*.<component>, and the
bridge's own events.eventbridge.> when it is the bridge's bus). The bridge's
own component is "eventbridge".`,
		Example: `  eventbridge tally --component server --nats nats://broker:4222 --port 9101
  eventbridge tally --component eventbridge --server http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if component == "" || component == ">" || strings.ContainsAny(component, " *.") {
				return &exitError{code: 2, err: fmt.Errorf("--component must name one component")}
			}
			reg := prometheus.NewRegistry()
			t := lifecycle.NewTally(component, prefix, reg)
			addr := listen
			if addr == "" {
				addr = ":" + strconv.Itoa(port)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			mux := http.NewServeMux()
			mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			fmt.Fprintf(stdout, "serving tally metrics of %q on http://%s/metrics\n", component, ln.Addr())

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				tick := time.NewTicker(time.Minute)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						t.Expire()
					}
				}
			}()
			if natsURL != "" {
				err = tallyFromNATS(ctx, natsURL, component, t)
			} else {
				err = tallyFromBridge(ctx, server, token, t)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&component, "component", "", "the component to watch (required)")
	f.StringVar(&prefix, "prefix", "lifecycle_tally", "metric name prefix")
	f.IntVar(&port, "port", 8080, "port to serve /metrics on")
	f.StringVar(&listen, "listen", "", "address to serve /metrics on (overrides --port)")
	f.StringVar(&natsURL, "nats", "", "read from this NATS server instead of a bridge")
	f.StringVar(&server, "server", envOr("EVENTBRIDGE_SERVER", "http://127.0.0.1:8080"), "the bridge to read live events from")
	f.StringVar(&token, "token", os.Getenv("EVENTBRIDGE_TOKEN"), "the bridge's API token")
	_ = cmd.MarkFlagRequired("component")
	return cmd
}

func tallyFromNATS(ctx context.Context, url, component string, t *lifecycle.Tally) error {
	subjects := []string{"choria.lifecycle.event.*." + component, bus.SourceEvents(lifecycle.SourceName)}
	return bus.Listen(ctx, url, "eventbridge-tally", subjects, t.Process)
}

// tallyFromBridge reads the bridge's live events (Server-Sent Events) and
// reconnects when the stream breaks.
func tallyFromBridge(ctx context.Context, server, token string, t *lifecycle.Tally) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := readSSE(ctx, strings.TrimSuffix(server, "/")+"/v1/events:stream", token, t.Process)
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "tally: event stream: %v; reconnecting in %s\n", err, backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	return ctx.Err()
}

// readSSE calls fn with the data of every Server-Sent Event of url.
func readSSE(ctx context.Context, url, token string, fn func([]byte)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				fn(data)
				data = nil
			}
		case strings.HasPrefix(line, "data:"):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
