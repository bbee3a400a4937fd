package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/eventbridge-dev/eventbridge/internal/connector/grpc"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// tool finds a command-line client: on the PATH or in the repository's
// bin/tools (where make test-deps builds grpcurl). Without it the test is
// skipped, or fails under EVENTBRIDGE_INTEGRATION=1.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	return testkit.NeedTool(t, name, pkg)
}

// needRabbitMQ skips the test unless RabbitMQ on 127.0.0.1:5672 speaks
// AMQP 1.0 as well as its own 0-9-1 (the bridge's amqp1 source and target
// use it), or fails under EVENTBRIDGE_INTEGRATION=1.
func needRabbitMQ(t *testing.T) {
	t.Helper()
	testkit.LockService(t, "rabbitmq") // connector tests restart it
	testkit.NeedAMQP1(t, "amqp://127.0.0.1:5672")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// amqpGet polls a queue with amqp-get until it holds a message, and
// returns the body.
func amqpGet(t *testing.T, get, queue string, p *proc) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := exec.Command(get, "-q", queue).Output()
		if err == nil {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing arrived in %s; bridge log:\n%s", queue, p.log())
	return nil
}

// TestIntegrationThirdPartyClients runs the bridge binary with amqp,
// amqp1 and grpc sources and targets, and lets standard clients do the
// talking: grpcurl publishes to the grpc source and the event comes out of
// RabbitMQ queues (the amqp and amqp1 targets), read by amqp-get;
// amqp-publish puts events into the queues the amqp and amqp1 sources read,
// and they come out of the grpc target, seen by grpcurl subscribed to the
// bridge's second grpc source.
func TestIntegrationThirdPartyClients(t *testing.T) {
	needRabbitMQ(t)
	const amqpTools = "Debian package amqp-tools"
	publish, get := tool(t, "amqp-publish", amqpTools), tool(t, "amqp-get", amqpTools)
	declare, del := tool(t, "amqp-declare-queue", amqpTools), tool(t, "amqp-delete-queue", amqpTools)
	grpcurl := tool(t, "grpcurl", "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3 into bin/tools")
	tag := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	queues := map[string]string{}
	for _, q := range []string{"in", "out", "in1", "out1"} {
		name := "ebtest-3p-" + q + "-" + tag
		queues[q] = name
		// A test of another package may be restarting RabbitMQ.
		for deadline := time.Now().Add(60 * time.Second); exec.Command(declare, "-d", "-q", name).Run() != nil; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				run(t, declare, "-d", "-q", name) // fails with the output
			}
		}
		t.Cleanup(func() { _ = exec.Command(del, "-q", name).Run() })
	}
	addr, grpcIn, grpcSink := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources:
  rabbit-in: {type: amqp, queue: %s}
  rabbit1-in: {type: amqp1, address: /amq/queue/%s}
  grpc-in: {type: grpc, listen: %q, reflection: true}
  grpc-sink: {type: grpc, listen: %q, reflection: true}
targets:
  rabbit-out: {type: amqp, routing_key: %s, mode: structured}
  rabbit1-out: {type: amqp1, address: /amq/queue/%s, mode: structured}
  grpc-out: {type: grpc, address: %q}
rules:
  from-grpc: {sources: [grpc-in], targets: [rabbit-out, rabbit1-out]}
  from-rabbit: {sources: [rabbit-in, rabbit1-in], targets: [grpc-out]}
`, queues["in"], queues["in1"], grpcIn, grpcSink, queues["out"], queues["out1"], grpcSink))
	p := start(t, cfg, addr)

	t.Run("grpcurl to RabbitMQ", func(t *testing.T) {
		req := `{"event": {"id": "g-1", "source": "/grpcurl", "specVersion": "1.0", "type": "com.example.grpcurl",
		  "attributes": {"subject": {"ceString": "orders/42"}, "time": {"ceTimestamp": "2026-11-22T01:02:03.5Z"},
		    "datacontenttype": {"ceString": "application/json"}, "priority": {"ceInteger": 7}},
		  "textData": "{\"total\": 42}"}}`
		run(t, grpcurl, "-plaintext", "-d", req, grpcIn, "io.cloudevents.v1.CloudEventService/Publish")
		for _, q := range []string{queues["out"], queues["out1"]} {
			body := amqpGet(t, get, q, p)
			e, err := ebevent.DecodeJSON(body)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q, err, body)
			}
			want := map[string]string{"id": "g-1", "source": "/grpcurl", "type": "com.example.grpcurl", "subject": "orders/42",
				"time": "2026-11-22T01:02:03.5Z", "priority": "7"}
			checkAttrs(t, e, want)
			if e.DataContentType() != "application/json" || !jsonEqual(e.Data(), []byte(`{"total":42}`)) {
				t.Errorf("%s: data %s %q", q, e.DataContentType(), e.Data())
			}
		}
	})

	t.Run("amqp-publish to grpcurl", func(t *testing.T) {
		sub := subscribe(t, grpcurl, grpcSink)
		// amqp-publish splits -H at the first colon, so binary mode
		// needs the cloudEvents_ prefix here.
		run(t, publish, "-r", queues["in"], "-p", "-C", "application/json", "-b", `{"n": 1}`,
			"-H", "cloudEvents_specversion: 1.0", "-H", "cloudEvents_id: a-1", "-H", "cloudEvents_source: /amqp-publish",
			"-H", "cloudEvents_type: com.example.binary", "-H", "cloudEvents_time: 2026-11-22T01:02:03Z", "-H", "cloudEvents_color: blue")
		run(t, publish, "-r", queues["in1"], "-p", "-C", "application/cloudevents+json",
			"-b", `{"specversion":"1.0","id":"a-2","source":"/amqp-publish","type":"com.example.structured","data":{"n":2}}`)
		got := sub.wait(t, 2, p)
		checkAttrs(t, got["a-1"], map[string]string{"source": "/amqp-publish", "type": "com.example.binary", "time": "2026-11-22T01:02:03Z", "color": "blue"})
		checkAttrs(t, got["a-2"], map[string]string{"source": "/amqp-publish", "type": "com.example.structured"})
		if !jsonEqual(got["a-1"].Data(), []byte(`{"n":1}`)) || !jsonEqual(got["a-2"].Data(), []byte(`{"n":2}`)) {
			t.Errorf("data %q %q", got["a-1"].Data(), got["a-2"].Data())
		}
	})
}

func checkAttrs(t *testing.T, e *ce.Event, want map[string]string) {
	t.Helper()
	if e == nil {
		t.Fatal("event missing")
	}
	for k, v := range want {
		if got, _ := ebevent.Attr(e, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// subscription is grpcurl streaming Subscribe, and the events it printed.
type subscription struct {
	mu     sync.Mutex
	events map[string]*ce.Event
	out    bytes.Buffer
}

// subscribe starts grpcurl -v on Subscribe and returns once the stream is
// open (its response headers arrived).
func subscribe(t *testing.T, grpcurl, addr string) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, grpcurl, "-v", "-plaintext", "-d", "{}", addr, "io.cloudevents.v1.CloudEventService/Subscribe")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &subscription{events: map[string]*ce.Event{}}
	open := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		var obj []string
		inObj := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
			switch {
			case strings.HasPrefix(line, "subscription-id:"):
				close(open)
			case line == "{":
				inObj, obj = true, []string{line}
			case inObj:
				obj = append(obj, line)
				if line == "}" {
					inObj = false
					var p pb.CloudEvent
					if err := protojson.Unmarshal([]byte(strings.Join(obj, "\n")), &p); err == nil {
						if e, err := grpc.FromProto(&p); err == nil {
							s.mu.Lock()
							s.events[e.ID()] = e
							s.mu.Unlock()
						}
					}
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; _ = cmd.Wait() })
	select {
	case <-open:
	case <-time.After(30 * time.Second):
		t.Fatalf("grpcurl did not subscribe:\n%s", s.out.String())
	}
	return s
}

// wait returns the events once n have arrived.
func (s *subscription) wait(t *testing.T, n int, p *proc) map[string]*ce.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.events) >= n {
			out := s.events
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("grpcurl saw %d of %d events:\n%s\nbridge log:\n%s", len(s.events), n, s.out.String(), p.log())
	return nil
}
