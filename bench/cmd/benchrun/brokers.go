package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// The broker scenarios: NATS → rule → NATS, MQTT → rule → HTTP and
// Kafka → rule → Kafka. Each sample starts a private broker on a free
// loopback port, a consumer in the runner that counts what arrives at the
// output (a sink.Sink: latency from ce-time, duplicates by source and id),
// and, for the bridge, eventbridge with a source on the input and a target
// on the output. The direct middlebox is the baseline: the consumer reads
// the input itself (MQTT → HTTP: a goroutine forwards each message to the
// HTTP sink synchronously). The load generator publishes from the runner
// with the loadgen schedules.

// broker is a private broker of one scenario, running for one sample.
type broker interface {
	// publisher connects a client that publishes one event to the input
	// and returns once the broker has acknowledged it (core NATS: once
	// written to the connection).
	publisher(ctx context.Context) (publishFunc, func(), error)
	// consume feeds s with what reaches the output, or with the input
	// itself for the direct middlebox. It returns the bridge's target
	// entry (for the output it reads) and how to stop.
	consume(ctx context.Context, direct bool, s *sink.Sink) (target string, stop func(), err error)
	// source returns the bridge's source entry, on the input.
	source() string
	// pids are the broker's processes (none when it runs in the runner).
	pids() []int
	close()
}

// startBroker starts scenario scen's broker, logging to logDir.
func (r *runner) startBroker(ctx context.Context, scen, logDir string) (broker, error) {
	switch scen {
	case scenNATS:
		return startNATS()
	case scenMQTT:
		return r.startMosquitto(ctx, logDir)
	case scenKafka:
		return startKafka()
	}
	return nil, fmt.Errorf("unknown broker scenario %q", scen)
}

// benchEvent is the part of an event that changes from one to the next;
// the rest (source, type, data) is loadgen's.
type benchEvent struct {
	ID   string
	Time string // RFC 3339, the intended send time
}

// publishFunc publishes one event.
type publishFunc func(ctx context.Context, e benchEvent) error

// sendFunc turns pub into a load generator's send, with ids unique to this
// call: prefix + sequence number. It returns the prefix too.
func sendFunc(pub publishFunc) (loadgen.SendFunc, string) {
	prefix := loadgen.RandomPrefix()
	return func(ctx context.Context, j loadgen.Job) (int, error) {
		e := benchEvent{ID: prefix + strconv.FormatUint(j.Seq, 10), Time: j.Intended.UTC().Format(time.RFC3339Nano)}
		if err := pub(ctx, e); err != nil {
			return 0, err
		}
		return 200, nil
	}, prefix
}

// windowed bounds the events in flight at saturation: a send waits while
// n or more events it sent have not arrived (arrived counts them), except
// after until, so that the load ends on time even if events were lost.
// Core NATS has no flow control: without a bound the publisher outruns
// any subscriber and the server drops messages for slow consumers.
func windowed(send loadgen.SendFunc, n uint64, until time.Time, arrived func() uint64) loadgen.SendFunc {
	var sent atomic.Uint64
	return func(ctx context.Context, j loadgen.Job) (int, error) {
		for sent.Load() >= arrived()+n && ctx.Err() == nil && time.Now().Before(until) {
			time.Sleep(100 * time.Microsecond)
		}
		status, err := send(ctx, j)
		if err == nil {
			sent.Add(1)
		}
		return status, err
	}
}

// localSink is a counter over a sink in the runner that counts only the
// events whose id starts with prefix: those of the phase being measured.
type localSink struct {
	*sink.Sink
	prefix string
}

func (l localSink) reset(context.Context) error { l.ResetFor(l.prefix); return nil }

func (l localSink) stats(context.Context) (sink.Stats, error) { return l.Stats(), nil }

// brokerEnv is one broker sample's broker, consumer, publisher and bridge.
type brokerEnv struct {
	scen    string
	broker  broker
	sink    *sink.Sink
	publish publishFunc
	bridge  *child // nil for direct
	// pprofURL is the bridge's /debug/pprof/ when it is profiled.
	pprofURL string
	stops    []func()
	tmp      string
}

func (e *brokerEnv) close() {
	if e.bridge != nil {
		e.bridge.stop(stopGrace)
	}
	for i := len(e.stops) - 1; i >= 0; i-- {
		e.stops[i]()
	}
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// pids are the benchmark's processes: the runner, the broker, the bridge.
func (e *brokerEnv) pids() []int {
	pids := append([]int{os.Getpid()}, e.broker.pids()...)
	if e.bridge != nil {
		pids = append(pids, e.bridge.pid())
	}
	return pids
}

// runBrokerSample measures middlebox kind (direct, bridge) of broker
// scenario scen once, with a fresh broker.
func (r *runner) runBrokerSample(ctx context.Context, scen, kind string, round int) (s sample) {
	s = sample{Scenario: scen, Middlebox: kind, Round: round}
	switch {
	case kind == boxBridge && r.cfg.FakeBridge:
		s.Unavailable = "--fake-bridge stands in for the bridge in the http scenario only"
		return s
	case kind == boxBridge && r.bridgeMissing != "":
		s.Unavailable = r.bridgeMissing
		return s
	}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("r%d-%s-%s", round, scen, kind))
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		s.Error = err.Error()
		return s
	}
	wait, busy := r.waitQuiet(ctx)
	s.QuietWaitSec, s.BusyBeforeCores = wait.Seconds(), busy
	e, err := r.startBrokerEnv(ctx, scen, kind, logDir, false)
	if e != nil {
		defer e.close()
	}
	if err != nil {
		s.Unavailable = err.Error()
		return s
	}
	err = r.measureSample(ctx, e.bridge, &s, func(ctx context.Context, load string, d time.Duration) (*phase, error) {
		return r.measureBroker(ctx, e, load, d)
	})
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// startBrokerEnv starts the broker, the consumer, the bridge (for kind
// bridge) and the publisher, then waits until events flow end to end. The
// env is returned, to be closed, even with an error.
func (r *runner) startBrokerEnv(ctx context.Context, scen, kind, logDir string, pprof bool) (*brokerEnv, error) {
	e := &brokerEnv{scen: scen, sink: sink.New()}
	b, err := r.startBroker(ctx, scen, logDir)
	if err != nil {
		return nil, fmt.Errorf("start %s broker: %w", scen, err)
	}
	e.broker = b
	e.stops = append(e.stops, b.close)
	target, stop, err := b.consume(ctx, kind == boxDirect, e.sink)
	if err != nil {
		return e, fmt.Errorf("consumer: %w", err)
	}
	e.stops = append(e.stops, stop)
	if kind == boxBridge {
		if e.tmp, err = os.MkdirTemp("", "eventbridge-bench-"); err != nil {
			return e, err
		}
		dataDir := filepath.Join(e.tmp, "data")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return e, err
		}
		cfgPath := filepath.Join(logDir, "bridge.yaml")
		var port int
		e.bridge, port, err = r.startServer(ctx, boxBridge, logDir, r.bridgeBin, r.cfg.ReadyTimeout, func(port int) ([]string, error) {
			cfg := renderBridgeConfig(dataDir, port, pprof, b.source(), target)
			return []string{"serve", "--config", cfgPath}, os.WriteFile(cfgPath, []byte(cfg), 0o644)
		})
		if err != nil {
			return e, err
		}
		if pprof {
			e.pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)
		}
	}
	pub, closePub, err := b.publisher(ctx)
	if err != nil {
		return e, fmt.Errorf("publisher: %w", err)
	}
	e.publish = pub
	e.stops = append(e.stops, closePub)
	probe, _ := sendFunc(pub)
	return e, awaitFlow(ctx, probe, e.sink, r.cfg.ReadyTimeout)
}

// awaitFlow publishes a probe event every 100 ms until one arrives (a
// subscription, a consumer group or a bridge's source may still be
// starting), then lets the stragglers arrive and resets s.
func awaitFlow(ctx context.Context, send loadgen.SendFunc, s *sink.Sink, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := uint64(0); s.Count() == 0; i++ {
		if time.Now().After(deadline) {
			return fmt.Errorf("no event reached the consumer within %v", timeout)
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := send(sctx, loadgen.Job{Seq: i, Intended: time.Now()})
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("publish probe: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	s.Reset()
	return nil
}

// brokerSendTimeout bounds one publish, after the load's duration.
const brokerSendTimeout = 10 * time.Second

// measureBroker runs one load for d: the runner publishes, the sink in
// the runner counts, as measureLoad does with the HTTP sink. Events of
// earlier phases that arrive late are not counted (sink.Stats.Stale).
func (r *runner) measureBroker(ctx context.Context, e *brokerEnv, load string, d time.Duration) (*phase, error) {
	send, prefix := sendFunc(e.publish)
	return r.measureLoad(ctx, localSink{e.sink, prefix}, e.bridge, e.pids(), load, func() (loadgen.Result, error) {
		lctx, cancel := context.WithTimeout(ctx, d+brokerSendTimeout)
		defer cancel()
		plan := loadgen.Plan{Mode: load, Rate: r.cfg.Rate, Duration: d, Concurrency: r.cfg.Workers}
		if load == scenSaturation {
			plan.Concurrency = r.cfg.Concurrency
			send = windowed(send, uint64(r.cfg.Window), time.Now().Add(d), e.sink.Count)
		}
		res := loadgen.Run(lctx, plan, send)
		res.URL = e.scen
		return res, ctx.Err()
	})
}

// renderBridgeConfig renders a bridge configuration with one source, one
// target and one rule between them (the entries are YAML flow mappings).
func renderBridgeConfig(dataDir string, port int, pprof bool, source, target string) string {
	api := fmt.Sprintf("  listen: 127.0.0.1:%d\n", port)
	if pprof {
		api += "  pprof: true\n"
	}
	return "bus:\n" +
		"  data_dir: " + yamlScalar(dataDir) + "\n" +
		"api:\n" + api +
		"sources:\n" +
		"  in: " + source + "\n" +
		"targets:\n" +
		"  sink: " + target + "\n" +
		"rules:\n" +
		"  forward:\n" +
		"    filter: {filters: [{prefix: {type: \"com.example.\"}}]}\n" +
		"    targets: [sink]\n"
}

// isBrokerScenario says whether scen is one of the broker scenarios.
func isBrokerScenario(scen string) bool {
	return scen == scenNATS || scen == scenMQTT || scen == scenKafka
}
