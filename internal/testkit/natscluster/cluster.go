// Package natscluster starts what the scale-out tests and the cluster
// benchmark run against: a JetStream cluster of nats-server processes on
// loopback, and eventbridge replicas on it, all child processes that can
// be killed (SIGKILL), stopped (SIGTERM) and started again on the same
// ports and data.
//
// nats-server is built from the module graph (the version in go.mod), the
// bridge from ./cmd/eventbridge; Build caches both per directory. The
// package talks to the servers through their monitoring endpoint (HTTP)
// only, so it does not import NATS.
package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binaries are the programs the harness runs.
type Binaries struct {
	NATSServer string // nats-server built from the module graph
	Bridge     string // eventbridge
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]Binaries{}
)

// Build compiles nats-server (github.com/nats-io/nats-server/v2, the
// version go.mod requires) and the bridge into dir, once per dir in this
// process. root is the module root. A bridge given as bridge (e.g.
// $EVENTBRIDGE_BIN) is used instead of building one.
func Build(ctx context.Context, root, dir, bridge string) (Binaries, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := buildCache[dir]; ok {
		return b, nil
	}
	b := Binaries{NATSServer: filepath.Join(dir, "nats-server"), Bridge: bridge}
	pkgs := []string{"github.com/nats-io/nats-server/v2"}
	if b.Bridge == "" {
		b.Bridge = filepath.Join(dir, "eventbridge")
		pkgs = append(pkgs, "./cmd/eventbridge")
	}
	for _, p := range pkgs {
		out := b.NATSServer
		if p == "./cmd/eventbridge" {
			out = b.Bridge
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, p)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if o, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s: %w\n%s", p, err, o)
		}
	}
	buildCache[dir] = b
	return b, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proc is a child process that can be started again with the same
// command line and log file.
type proc struct {
	mu      sync.Mutex
	bin     string
	args    []string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("already running")
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s start\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := startCmd(cmd); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

// signal sends sig and waits up to wait for the process to exit (then
// kills it).
func (p *proc) signal(sig syscall.Signal, wait time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not exit within %s of %s: killed", filepath.Base(p.bin), wait, sig)
	}
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Log returns the process's output so far (every run of it).
func (p *proc) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Node is one nats-server of a Cluster.
type Node struct {
	proc
	Name                        string
	Port, ClusterPort, HTTPPort int
	dir                         string
}

// URL is the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Kill sends SIGKILL: the node dies at once, without telling its peers.
func (n *Node) Kill() error { return n.signal(syscall.SIGKILL, 10*time.Second) }

// Stop shuts the node down (SIGTERM; nats-server leaves the cluster
// cleanly, handing its leaderships over).
func (n *Node) Stop() error { return n.signal(syscall.SIGTERM, 30*time.Second) }

// Start starts a stopped or killed node again, on its ports and store.
func (n *Node) Start() error { return n.start() }

// Running reports whether the process is alive.
func (n *Node) Running() bool { return n.running() }

// Cluster is a JetStream cluster of nats-server processes on loopback.
type Cluster struct {
	Nodes []*Node
	Name  string
}

// StartCluster starts size nodes with their stores under dir and waits
// until JetStream has a meta leader that every node knows. Stop them with
// Close.
func StartCluster(ctx context.Context, natsServer, dir string, size int) (*Cluster, error) {
	c := &Cluster{Name: "ebtest"}
	for i := 0; i < size; i++ {
		n := &Node{Name: fmt.Sprintf("n%d", i+1), dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1))}
		var err error
		for _, p := range []*int{&n.Port, &n.ClusterPort, &n.HTTPPort} {
			if *p, err = FreePort(); err != nil {
				return nil, err
			}
		}
		if err := os.MkdirAll(n.dir, 0o700); err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	var routes []string
	for _, n := range c.Nodes {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", n.ClusterPort))
	}
	for _, n := range c.Nodes {
		conf := fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
jetstream { store_dir: %q }
cluster {
  name: %s
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, n.Name, n.Port, n.HTTPPort, filepath.Join(n.dir, "js"), c.Name, n.ClusterPort, strings.Join(routes, ", "))
		cf := filepath.Join(n.dir, "nats.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		n.proc = proc{bin: natsServer, args: []string{"-c", cf}, logPath: filepath.Join(n.dir, "nats.log")}
		if err := n.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// URL lists every node's client URL, comma-separated (bus.url).
func (c *Cluster) URL() string {
	var us []string
	for _, n := range c.Nodes {
		us = append(us, n.URL())
	}
	return strings.Join(us, ",")
}

// Close kills every node.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		_ = n.Kill()
	}
}

// Node returns the node of this server name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// jsz is the part of /jsz this package reads.
type jsz struct {
	Meta *struct {
		Leader  string `json:"leader"`
		Replica []struct {
			Name    string `json:"name"`
			Current bool   `json:"current"`
			Offline bool   `json:"offline"`
		} `json:"replicas"`
	} `json:"meta_cluster"`
	Accounts []struct {
		Streams []StreamInfo `json:"stream_detail"`
	} `json:"account_details"`
}

// StreamInfo is what a node reports of a stream it hosts.
type StreamInfo struct {
	Name    string `json:"name"`
	Cluster struct {
		Leader   string `json:"leader"`
		Replicas []struct {
			Name    string `json:"name"`
			Current bool   `json:"current"`
			Offline bool   `json:"offline"`
			Lag     uint64 `json:"lag"`
		} `json:"replicas"`
	} `json:"cluster"`
	State struct {
		Msgs     uint64 `json:"messages"`
		LastSeq  uint64 `json:"last_seq"`
		FirstSeq uint64 `json:"first_seq"`
	} `json:"state"`
}

var monClient = &http.Client{Timeout: 2 * time.Second}

func (n *Node) jsz(ctx context.Context) (*jsz, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://127.0.0.1:%d/jsz?accounts=true&streams=true", n.HTTPPort), nil)
	resp, err := monClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s /jsz: %s", n.Name, resp.Status)
	}
	var j jsz
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&j); err != nil {
		return nil, fmt.Errorf("%s /jsz: %w", n.Name, err)
	}
	return &j, nil
}

// Streams returns the streams the node hosts (a replica of, or the whole
// stream), whose names start with prefix.
func (n *Node) Streams(ctx context.Context, prefix string) ([]StreamInfo, error) {
	j, err := n.jsz(ctx)
	if err != nil {
		return nil, err
	}
	var out []StreamInfo
	for _, a := range j.Accounts {
		for _, s := range a.Streams {
			if strings.HasPrefix(s.Name, prefix) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// healthy reports whether the node's /healthz answers 200.
func (n *Node) healthy(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/healthz", n.HTTPPort), nil)
	resp, err := monClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitHealthy waits until every running node answers /healthz with 200,
// they agree on a meta leader, and each sees the others as current peers.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	return poll(ctx, 60*time.Second, func() (bool, string) {
		leader := ""
		running := 0
		for _, n := range c.Nodes {
			if n.Running() {
				running++
			}
		}
		for _, n := range c.Nodes {
			if !n.Running() {
				continue
			}
			if !n.healthy(ctx) {
				return false, n.Name + " not healthy"
			}
			j, err := n.jsz(ctx)
			if err != nil {
				return false, err.Error()
			}
			if j.Meta == nil || j.Meta.Leader == "" {
				return false, n.Name + " knows no meta leader"
			}
			// The meta leader sees every other running node as a current
			// peer (only the leader knows): a stream or bucket made now can
			// be placed on any three.
			peers := 0
			if j.Meta.Leader != n.Name {
				peers = running - 1
			}
			for _, r := range j.Meta.Replica {
				if j.Meta.Leader != n.Name {
					break
				}
				if m := c.Node(r.Name); m != nil && m.Running() {
					if !r.Current || r.Offline {
						return false, fmt.Sprintf("%s sees peer %s not current", n.Name, r.Name)
					}
					peers++
				}
			}
			if peers < running-1 {
				return false, fmt.Sprintf("%s sees %d of %d peers", n.Name, peers, running-1)
			}
			if leader != "" && j.Meta.Leader != leader {
				return false, "nodes disagree on the meta leader"
			}
			leader = j.Meta.Leader
		}
		return leader != "", "no meta leader"
	})
}

// StreamLeader returns the node that leads the stream, as the running
// nodes report it (an error while none does).
func (c *Cluster) StreamLeader(ctx context.Context, stream string) (*Node, error) {
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		ss, err := n.Streams(ctx, stream)
		if err != nil {
			continue
		}
		for _, s := range ss {
			if s.Name == stream && s.Cluster.Leader != "" {
				if l := c.Node(s.Cluster.Leader); l != nil && l.Running() {
					return l, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no running node leads stream %s", stream)
}

// WaitStreamLeader waits until a running node leads the stream.
func (c *Cluster) WaitStreamLeader(ctx context.Context, stream string, within time.Duration) (*Node, error) {
	var l *Node
	err := poll(ctx, within, func() (bool, string) {
		var err error
		l, err = c.StreamLeader(ctx, stream)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return l, err
}

// WaitCurrent waits until every running node hosts every stream whose name
// starts with prefix at the same last sequence as its leader, with no
// replica reported behind or offline: a node that came back has caught up.
func (c *Cluster) WaitCurrent(ctx context.Context, prefix string, within time.Duration) error {
	return poll(ctx, within, func() (bool, string) {
		last := map[string]uint64{}
		seen := map[string]int{}
		running := 0
		for _, n := range c.Nodes {
			if !n.Running() {
				continue
			}
			running++
			ss, err := n.Streams(ctx, prefix)
			if err != nil {
				return false, err.Error()
			}
			for _, s := range ss {
				if v, ok := last[s.Name]; ok && v != s.State.LastSeq {
					return false, fmt.Sprintf("%s: %s at seq %d, another node at %d", s.Name, n.Name, s.State.LastSeq, v)
				}
				last[s.Name] = s.State.LastSeq
				seen[s.Name]++
				// Current is not checked: a quiet stream's followers are
				// reported not current although they lack nothing.
				for _, r := range s.Cluster.Replicas {
					if r.Offline || r.Lag > 0 {
						return false, fmt.Sprintf("%s: replica %s offline or behind (lag %d)", s.Name, r.Name, r.Lag)
					}
				}
			}
		}
		if len(last) == 0 {
			return false, "no stream " + prefix + "*"
		}
		for name, n := range seen {
			if n != running {
				return false, fmt.Sprintf("%s: on %d of %d running nodes", name, n, running)
			}
		}
		return true, ""
	})
}

// poll calls cond every 50ms until it is true, ctx ends or within passes;
// the error carries cond's last reason.
func poll(ctx context.Context, within time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(within)
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %s", within, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Pid is the process id, 0 when it does not run.
func (p *proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
