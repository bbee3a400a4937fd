package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/natscluster"
)

// The cluster scenario: HTTP in → rule → HTTP out, as in the http
// scenario, but on a 3-node NATS JetStream cluster (nats-server built from
// the module graph, R3 streams), through one replica of the bridge or
// through three, the load spread over them round robin. Each sample starts
// a fresh cluster, sink and replicas. CPU per event is measured for each
// replica and for the NATS nodes together.

// Middleboxes of the cluster scenario.
const (
	boxReplicas1 = "1-replica"
	boxReplicas3 = "3-replicas"
)

// clusterCPU is where a cluster phase's CPU went, per event delivered.
type clusterCPU struct {
	// ReplicaUS is each replica's user+system CPU per event, µs.
	ReplicaUS []float64 `json:"replica_us"`
	// NATSUS is the three NATS nodes' CPU per event, together, µs.
	NATSUS float64 `json:"nats_us"`
}

// replicasOf returns how many replicas middlebox kind runs.
func replicasOf(kind string) int {
	if kind == boxReplicas3 {
		return 3
	}
	return 1
}

// natsBins builds nats-server (and finds the bridge) once per run.
func (r *runner) natsBins(ctx context.Context) (natscluster.Binaries, error) {
	root, err := findModuleRoot(".")
	if err != nil {
		return natscluster.Binaries{}, err
	}
	dir := filepath.Join(r.runDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return natscluster.Binaries{}, err
	}
	return natscluster.Build(ctx, root, dir, r.bridgeBin)
}

// runClusterSample measures middlebox kind (1-replica, 3-replicas) of the
// cluster scenario once.
func (r *runner) runClusterSample(ctx context.Context, kind string, round int) (s sample) {
	s = sample{Scenario: scenCluster, Middlebox: kind, Round: round}
	if r.bridgeMissing != "" || r.cfg.FakeBridge {
		s.Unavailable = "the cluster scenario needs the real bridge (--bridge-bin)"
		return s
	}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("r%d-cluster-%s", round, kind))
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		s.Error = err.Error()
		return s
	}
	bins, err := r.natsBins(ctx)
	if err != nil {
		s.Unavailable = err.Error()
		return s
	}
	wait, busy := r.waitQuiet(ctx)
	s.QuietWaitSec, s.BusyBeforeCores = wait.Seconds(), busy
	sinkProc, port, err := r.startServer(ctx, "sink", logDir, r.bins.sink, 10*time.Second, func(port int) ([]string, error) {
		return []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port)}, nil
	})
	if err != nil {
		s.Unavailable = err.Error()
		return s
	}
	defer sinkProc.stop(stopGrace)
	sinkBase := fmt.Sprintf("http://127.0.0.1:%d", port)
	c, err := natscluster.StartCluster(ctx, bins.NATSServer, filepath.Join(logDir, "nats"), 3)
	if err != nil {
		s.Unavailable = err.Error()
		return s
	}
	defer c.Close()
	var reps []*natscluster.Replica
	defer func() {
		for _, rep := range reps {
			_ = rep.Stop()
		}
	}()
	body := "sources: {in: {type: http, path: /events}}\n" +
		"targets: {sink: {type: http, url: " + strconv.Quote(sinkBase+"/") + ", mode: binary}}\n" +
		"rules: {forward: {filter: {filters: [{prefix: {type: \"com.example.\"}}]}, targets: [sink]}}\n"
	for i := 1; i <= replicasOf(kind); i++ {
		p, err := freePort()
		if err != nil {
			s.Error = err.Error()
			return s
		}
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		name := fmt.Sprintf("bench-%d", i)
		cfg := natscluster.ReplicaConfig(name, addr, c.URL(), "", body)
		rep, err := natscluster.StartReplica(ctx, bins.Bridge, logDir, name, addr, cfg)
		if rep != nil {
			reps = append(reps, rep)
		}
		if err != nil {
			s.Unavailable = err.Error()
			return s
		}
	}
	var targets []*loadgen.Target
	for _, rep := range reps {
		targets = append(targets, loadgen.NewTarget(rep.URL()+"/events", r.cfg.Concurrency, brokerSendTimeout))
	}
	own := []int{os.Getpid(), sinkProc.pid()}
	var natsPids, repPids []int
	for _, n := range c.Nodes {
		natsPids = append(natsPids, n.Pid())
	}
	for _, rep := range reps {
		repPids = append(repPids, rep.Pid())
	}
	own = append(append(own, natsPids...), repPids...)
	sinkAPI := newSinkClient(sinkBase)
	err = r.runScenarios(ctx, func(ctx context.Context, load string, d time.Duration) (*phase, error) {
		before := cpuOf(append(repPids, natsPids...))
		p, err := r.measureLoad(ctx, sinkAPI, nil, own, load, func() (loadgen.Result, error) {
			var next atomic.Uint64
			send := func(ctx context.Context, j loadgen.Job) (int, error) {
				return targets[next.Add(1)%uint64(len(targets))].Send(ctx, j)
			}
			lctx, cancel := context.WithTimeout(ctx, d+brokerSendTimeout)
			defer cancel()
			plan := loadgen.Plan{Mode: load, Rate: r.cfg.Rate, Duration: d, Concurrency: r.cfg.Workers}
			if load == scenSaturation {
				plan.Concurrency = r.cfg.Concurrency
			}
			res := loadgen.Run(lctx, plan, send)
			res.URL = kind
			return res, ctx.Err()
		})
		if err != nil || p.Sink.Unique() == 0 {
			return p, err
		}
		after := cpuOf(append(repPids, natsPids...))
		per := func(i int) float64 { return (after[i] - before[i]).Seconds() * 1e6 / float64(p.Sink.Unique()) }
		p.Cluster = &clusterCPU{}
		for i := range repPids {
			p.Cluster.ReplicaUS = append(p.Cluster.ReplicaUS, per(i))
			p.CPUSec += (after[i] - before[i]).Seconds()
		}
		for i := range natsPids {
			p.Cluster.NATSUS += per(len(repPids) + i)
		}
		p.CPUPerEventUS = p.CPUSec * 1e6 / float64(p.Sink.Unique())
		return p, nil
	}, &s)
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// cpuOf returns the user+system CPU time of each process (0 when gone).
func cpuOf(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		out[i], _ = procstat.CPU(pid)
	}
	return out
}
