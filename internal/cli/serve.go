package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/version"
)

func newServe() *cobra.Command {
	var (
		cfgPath     string
		dataDir     string
		listen      string
		metricsAddr string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bridge",
		Long: `Run the bridge with a config file.

The bus is an embedded NATS JetStream under bus.data_dir (default ./data) that
opens no network port, unless bus.url names an external NATS cluster. The HTTP
server (api.listen, default 127.0.0.1:8080) serves the sources mounted on it,
/healthz, /readyz and /metrics.

SIGINT or SIGTERM stops intake, lets deliveries in flight finish within
shutdown_timeout, and leaves the rest in the bus for the next start; a second
signal exits at once.

Unless GOMEMLIMIT is set, serve sets Go's soft memory limit to 64 MiB or 1.5
times the live heap, whichever is larger, and follows the live heap every
second (GOMEMLIMIT=off keeps Go's default, no limit).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("%s:\n%s", cfgPath, config.String(err))}
			}
			if dataDir != "" {
				cfg.Bus.DataDir = dataDir
			}
			if listen != "" {
				cfg.API.Listen = listen
			}
			if metricsAddr != "" {
				cfg.API.MetricsListen = metricsAddr
			}
			shutdownTimeout := cfg.ShutdownTimeout.D() // cfg (10,000 rules' specs) need not stay alive
			b := server.New(cfg, nil)
			log := b.Logs().Root()
			log.Info("starting eventbridge", "version", version.Version, "build", version.Build, "config", cfgPath)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := softMemoryLimit(ctx)
			if err := b.Start(ctx); err != nil {
				return &exitError{code: 1, err: err}
			}
			started()
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			sig := <-sigs
			log.Info("shutting down", "signal", sig.String(), "timeout", shutdownTimeout)
			go func() {
				<-sigs
				log.Warn("second signal: exiting now")
				os.Exit(130)
			}()
			sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer scancel()
			if err := b.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				log.Warn("shutdown", "err", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "eventbridge.yaml", "config file")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "override bus.data_dir")
	cmd.Flags().StringVar(&listen, "listen", "", "serve sources, the API and /healthz on this address instead of api.listen (e.g. 127.0.0.1:9090)")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics on this address instead of api.listen (api.metrics_listen)")
	return cmd
}
