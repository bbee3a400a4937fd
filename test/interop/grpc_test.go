package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	csgrpc "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
	// before the two protobuf copies of the CloudEvents schema register
	_ "github.com/eventbridge-dev/eventbridge/test/interop/internal/protoconflict"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic"
	ocmgrpc "open-cluster-management.io/sdk-go/pkg/cloudevents/generic/options/grpc"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// eventbridge as the OCM gRPC broker: the built binary with a grpc source
// in broker mode. EVENTBRIDGE_BIN names the binary (make sets it);
// without it the tests build one.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func bridgeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if b := os.Getenv("EVENTBRIDGE_BIN"); b != "" {
			binPath = b
			return
		}
		dir, err := os.MkdirTemp("", "eventbridge-interop")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "eventbridge")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/eventbridge")
		cmd.Dir = "../.." // the main module
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// bridge is a running eventbridge process.
type bridge struct {
	t        *testing.T
	bin      string
	cfg      string
	api      string
	grpcAddr string
	logPath  string
	cmd      *exec.Cmd
}

func startBridge(t *testing.T) *bridge {
	t.Helper()
	dir := t.TempDir()
	b := &bridge{t: t, bin: bridgeBinary(t), api: freeAddr(t), grpcAddr: freeAddr(t), logPath: filepath.Join(dir, "eventbridge.log")}
	cfg := fmt.Sprintf(`bus: {data_dir: %q, ack_wait: 2s}
api: {listen: %q}
shutdown_timeout: 5s
log: {level: warn}
sources:
  ocm:
    type: grpc
    listen: %q
    broker: {enabled: true}
`, filepath.Join(dir, "data"), b.api, b.grpcAddr)
	b.cfg = filepath.Join(dir, "eventbridge.yaml")
	if err := os.WriteFile(b.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start()
	t.Cleanup(b.kill)
	return b
}

func (b *bridge) start() {
	b.t.Helper()
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.t.Fatal(err)
	}
	defer logf.Close()
	b.cmd = exec.Command(b.bin, "serve", "--config", b.cfg)
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	eventually(b.t, 2*waitFor, "eventbridge /readyz", func() (bool, string) {
		resp, err := http.Get("http://" + b.api + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// kill stops the process with SIGKILL: a crash, not a shutdown.
func (b *bridge) kill() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	_ = b.cmd.Wait()
	b.cmd = nil
	if b.t.Failed() {
		if out, err := os.ReadFile(b.logPath); err == nil {
			b.t.Logf("eventbridge log:\n%s", out)
		}
	}
}

// eventbridgeBroker starts a bridge; cut kills it (-9), restore starts it
// again on the same ports and data.
func eventbridgeBroker(t *testing.T) (string, func(), func()) {
	b := startBridge(t)
	return b.grpcAddr, b.kill, b.start
}

func ocmGRPCOptions(addr string) *ocmgrpc.GRPCOptions {
	return &ocmgrpc.GRPCOptions{Dialer: &ocmgrpc.GRPCDialer{URL: addr}}
}

func startOCMSourceGRPC(t *testing.T, ctx context.Context, broker string, side *sourceSide, clusters ...string) {
	t.Helper()
	opts := ocmgrpc.NewSourceOptions(ocmGRPCOptions(broker), side.id)
	codec := &ocmWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := generic.NewCloudEventSourceClient[*Widget](ctx, opts, side.store, ocmStatusHash, codec)
	if err != nil {
		t.Fatalf("OCM source client: %v", err)
	}
	side.client = ocmSource{c}
	c.Subscribe(ctx, func(action types.ResourceAction, w *Widget) error {
		side.onStatus(w)
		return nil
	})
	onOCMReconnect(ctx, c.ReconnectedChan(), &side.reconnects, func() {
		side.republish(ctx, t)
		for _, cl := range clusters {
			if err := c.Resync(ctx, cl); err != nil {
				t.Logf("OCM source: resync %s after reconnect: %v", cl, err)
			}
		}
	})
}

func startOCMAgentGRPC(t *testing.T, ctx context.Context, broker, sourceID string, side *agentSide) {
	t.Helper()
	opts := ocmgrpc.NewAgentOptions(ocmGRPCOptions(broker), side.cluster, side.id)
	codec := &ocmWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := generic.NewCloudEventAgentClient[*Widget](ctx, opts, side.store, ocmStatusHash, codec)
	if err != nil {
		t.Fatalf("OCM agent client: %v", err)
	}
	side.client = ocmAgent{c}
	c.Subscribe(ctx, func(action types.ResourceAction, w *Widget) error {
		side.onSpec(action, w)
		return nil
	})
	side.run(ctx, t)
	onOCMReconnect(ctx, c.ReconnectedChan(), &side.reconnects, func() {
		if err := c.Resync(ctx, sourceID); err != nil {
			t.Logf("OCM agent: resync after reconnect: %v", err)
		}
	})
}

func ourGRPCOptions(addr string) *csgrpc.Options {
	return &csgrpc.Options{URL: addr, DialTimeout: 5 * time.Second}
}

func startOurSourceGRPC(t *testing.T, ctx context.Context, broker string, side *sourceSide, clusters ...string) {
	t.Helper()
	side.onReconnect = func() { side.republish(ctx, t) }
	startOurSource(t, ctx, csgrpc.NewSourceTransport(ourGRPCOptions(broker), side.id, ourDataType), side, clusters...)
}

func startOurAgentGRPC(t *testing.T, ctx context.Context, broker, sourceID string, side *agentSide) {
	t.Helper()
	startOurAgent(t, ctx, csgrpc.NewAgentTransport(ourGRPCOptions(broker), side.cluster, ourDataType), sourceID, side)
}

func runGRPCScenarios(t *testing.T, p pair) {
	t.Run("Lifecycle", func(t *testing.T) { scenarioLifecycle(t, p) })
	t.Run("SpecResync", func(t *testing.T) { scenarioSpecResync(t, p) })
	t.Run("StatusResync", func(t *testing.T) { scenarioStatusResync(t, p) })
	t.Run("BrokerRestart", func(t *testing.T) { scenarioBrokerRestart(t, p) })
}

func TestOCMSourceOCMAgentGRPC(t *testing.T) {
	runGRPCScenarios(t, pair{startSource: startOCMSourceGRPC, startAgent: startOCMAgentGRPC, broker: eventbridgeBroker, brokerKeepsSpecs: true})
}

func TestOCMSourceOurAgentGRPC(t *testing.T) {
	runGRPCScenarios(t, pair{startSource: startOCMSourceGRPC, startAgent: startOurAgentGRPC, broker: eventbridgeBroker, brokerKeepsSpecs: true})
}

func TestOurSourceOCMAgentGRPC(t *testing.T) {
	runGRPCScenarios(t, pair{startSource: startOurSourceGRPC, startAgent: startOCMAgentGRPC, broker: eventbridgeBroker, brokerKeepsSpecs: true})
}

func TestOurSourceOurAgentGRPC(t *testing.T) {
	runGRPCScenarios(t, pair{startSource: startOurSourceGRPC, startAgent: startOurAgentGRPC, broker: eventbridgeBroker, brokerKeepsSpecs: true})
}
