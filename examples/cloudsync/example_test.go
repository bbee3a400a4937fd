package cloudsync_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

const wait = 90 * time.Second

// TestExample builds the example's source and agent and runs them through
// eventbridge's gRPC broker, NATS, JetStream and Kafka (in-process): the agent's state file must
// follow the source's objects file (create, update, delete), the source
// must print the agent's statuses, and an agent restarted after missing
// changes must catch up by the resync.
func TestExample(t *testing.T) {
	bin := build(t)
	t.Run("eventbridge-grpc", func(t *testing.T) {
		addr := freeAddr(t)
		bridgetest.Start(t, fmt.Sprintf("sources:\n  ocm:\n    type: grpc\n    listen: %s\n    broker:\n      enabled: true\n", addr))
		runExample(t, bin, "grpc", addr)
	})
	t.Run("nats", func(t *testing.T) {
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatal("NATS not ready")
		}
		t.Cleanup(s.Shutdown)
		runExample(t, bin, "nats", s.ClientURL())
	})
	t.Run("jetstream", func(t *testing.T) {
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatal("NATS not ready")
		}
		t.Cleanup(s.Shutdown)
		runExample(t, bin, "jetstream", s.ClientURL())
	})
	t.Run("kafka", func(t *testing.T) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		runExample(t, bin, "kafka", strings.Join(c.ListenAddrs(), ","))
	})
}

// TestIntegrationExampleMosquitto runs the example through the machine's
// MQTT broker (MQTT_ADDR, default 127.0.0.1:1883), on topics of a source
// and cluster of its own.
func TestIntegrationExampleMosquitto(t *testing.T) {
	addr := os.Getenv("MQTT_ADDR")
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	testkit.NeedTCP(t, addr, "MQTT broker (Mosquitto)")
	runExample(t, build(t), "mqtt", addr)
}

// build compiles the source and agent programs into a temporary
// directory.
func build(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, p := range []string{"source", "agent"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, p), "./"+p)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./%s: %v\n%s", p, err, out)
		}
	}
	return bin
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func runExample(t *testing.T, bin, transport, broker string) {
	dir := t.TempDir()
	id := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	sourceID, cluster := "src-"+id, "cl-"+id
	objects := filepath.Join(dir, "objects.json")
	state := filepath.Join(dir, "agent-state.json")
	writeObjects(t, objects, `{"a":{"size":1},"b":{"size":2}}`)
	common := []string{"-transport", transport, "-broker", broker, "-prefix", "ex-" + id, "-cluster", cluster, "-source-id", sourceID}

	agent := startProc(t, filepath.Join(bin, "agent"), append(common, "-agent-id", "agent-"+id, "-state", state)...)
	source := startProc(t, filepath.Join(bin, "source"), append(common, "-objects", objects, "-interval", "100ms")...)
	waitState(t, state, map[string]string{"a": `1 {"size":1}`, "b": `1 {"size":2}`}, agent, source)
	testkit.Eventually(t, wait, func() bool {
		return strings.Contains(source.String(), `status a {"applied":1}`) && strings.Contains(source.String(), `status b {"applied":1}`)
	}, "the source did not print both statuses:\n%s", source)

	writeObjects(t, objects, `{"a":{"size":3},"c":{"size":4}}`)
	waitState(t, state, map[string]string{"a": `2 {"size":3}`, "c": `1 {"size":4}`}, agent, source)
	testkit.Eventually(t, wait, func() bool { return strings.Contains(source.String(), `status a {"applied":2}`) },
		"the source did not print a's new status:\n%s", source)

	// The agent goes away and misses changes; started again with its
	// state file, it gets them by the spec resync.
	agent.stop(t)
	writeObjects(t, objects, `{"a":{"size":5},"d":{"size":6}}`)
	testkit.Eventually(t, wait, func() bool { return strings.Contains(source.String(), "delete c") }, "the source did not take the change:\n%s", source)
	agent = startProc(t, filepath.Join(bin, "agent"), append(common, "-agent-id", "agent-"+id, "-state", state)...)
	waitState(t, state, map[string]string{"a": `3 {"size":5}`, "d": `1 {"size":6}`}, agent, source)
}

func writeObjects(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitState waits until the agent's state file holds exactly want (id →
// "<version> <spec>").
func waitState(t *testing.T, path string, want map[string]string, agent, source *proc) {
	t.Helper()
	var last string
	deadline := time.Now().Add(wait)
	for {
		got, err := readState(path)
		if err == nil && fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		last = fmt.Sprint(got, err)
		if time.Now().After(deadline) {
			t.Fatalf("after %s the agent state is not %v; last %s\nagent:\n%s\nsource:\n%s", wait, want, last, agent, source)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readState(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []struct {
		ID      string          `json:"id"`
		Version int64           `json:"version"`
		Spec    json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, r := range rs {
		var c bytes.Buffer
		if err := json.Compact(&c, r.Spec); err != nil {
			return nil, err
		}
		got[r.ID] = fmt.Sprintf("%d %s", r.Version, c.String())
	}
	return got, nil
}

// proc is a running example program and its output.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProc(t *testing.T, path string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(path, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop ends the program with SIGTERM (SIGKILL after 20 s).
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", filepath.Base(p.cmd.Path))
	}
}
