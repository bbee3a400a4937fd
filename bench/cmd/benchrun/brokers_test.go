package main

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

func TestWindowedBoundsEventsInFlight(t *testing.T) {
	var sent, arrived atomic.Uint64
	send := func(context.Context, loadgen.Job) (int, error) { sent.Add(1); return 200, nil }
	w := windowed(send, 3, time.Now().Add(time.Hour), arrived.Load)
	for i := range 3 {
		if _, err := w(context.Background(), loadgen.Job{Seq: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = w(context.Background(), loadgen.Job{Seq: 3})
	}()
	select {
	case <-done:
		t.Fatal("a 4th event was sent with 3 in flight")
	case <-time.After(20 * time.Millisecond):
	}
	arrived.Store(1)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the send did not resume when an event arrived")
	}
	// Past the deadline the window no longer holds the load back.
	late := windowed(send, 1, time.Now(), func() uint64 { return 0 })
	_, _ = late(context.Background(), loadgen.Job{})
	_, _ = late(context.Background(), loadgen.Job{})
	if sent.Load() != 6 {
		t.Fatalf("sent %d, want 6", sent.Load())
	}
}

func TestHeaderAttrs(t *testing.T) {
	src, id, ts := headerAttrs(map[string][]string{
		"Ce-Source": {"/s"}, "ce-id": {"1"}, "CE-TIME": {"2026-01-01T00:00:00Z"}, "ce-type": {"x"}, "ce_id": {"wrong"},
	}, "ce-")
	if src != "/s" || id != "1" || ts != "2026-01-01T00:00:00Z" {
		t.Fatalf("ce-: %q %q %q", src, id, ts)
	}
	src, id, ts = kafkaAttrs(kafkaHeaders(benchEvent{ID: "k-1", Time: "2026-01-01T00:00:00.5Z"}))
	if src != loadgen.DefaultSource || id != "k-1" || ts != "2026-01-01T00:00:00.5Z" {
		t.Fatalf("kafka: %q %q %q", src, id, ts)
	}
}

func TestMQTTToHTTP(t *testing.T) {
	p := mqttProperties(benchEvent{ID: "m-1", Time: "2026-01-01T00:00:00Z"})
	p.User = append(p.User, paho.UserProperty{Key: "ce-subject", Value: "sub"})
	h := mqttToHTTP(p)
	want := http.Header{
		"Ce-Specversion": {"1.0"}, "Ce-Id": {"m-1"}, "Ce-Source": {loadgen.DefaultSource},
		"Ce-Type": {loadgen.DefaultType}, "Ce-Time": {"2026-01-01T00:00:00Z"}, "Ce-Subject": {"sub"},
		"Content-Type": {"application/json"},
	}
	for k, v := range want {
		if h.Get(k) != v[0] {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v[0])
		}
	}
	if len(h) != len(want) || len(mqttToHTTP(nil)) != 0 {
		t.Errorf("headers %v", h)
	}
}

func TestBrokerBridgeConfigs(t *testing.T) {
	n := &natsBroker{url: "nats://127.0.0.1:4999"}
	k := &kafkaBroker{addr: "127.0.0.1:9999"}
	m := &mqttBroker{addr: "127.0.0.1:1999"}
	got := renderBridgeConfig("/tmp/d", 8081, false, n.source(), "{type: nats, url: \"nats://127.0.0.1:4999\", subject: bench.out, mode: binary}")
	want := `bus:
  data_dir: /tmp/d
api:
  listen: 127.0.0.1:8081
sources:
  in: {type: nats, url: "nats://127.0.0.1:4999", subjects: [bench.in]}
targets:
  sink: {type: nats, url: "nats://127.0.0.1:4999", subject: bench.out, mode: binary}
rules:
  forward:
    filter: {filters: [{prefix: {type: "com.example."}}]}
    targets: [sink]
`
	if got != want {
		t.Fatalf("config:\n%s\nwant:\n%s", got, want)
	}
	if s := k.source(); s != `{type: kafka, brokers: ["127.0.0.1:9999"], topics: [bench-in]}` {
		t.Errorf("kafka source %s", s)
	}
	if s := m.source(); s != `{type: mqtt, url: "mqtt://127.0.0.1:1999", topics: [bench/in], qos: 1, clean_start: true}` {
		t.Errorf("mqtt source %s", s)
	}
	conf := mosquittoConfig(1999)
	for _, line := range []string{"listener 1999 127.0.0.1", "allow_anonymous true", "set_tcp_nodelay true", "persistence false"} {
		if !strings.Contains(conf, line+"\n") {
			t.Errorf("mosquitto config lacks %q:\n%s", line, conf)
		}
	}
}

// roundTrip publishes 20 events through b's direct path, one of them twice,
// each 5 ms after its intended time, and checks what the consumer counted,
// and that the bridge's target entry names the output.
func roundTrip(t *testing.T, b broker, wantTarget string) {
	t.Helper()
	ctx := context.Background()
	s := sink.New()
	target, stop, err := b.consume(ctx, true, s)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.Contains(target, wantTarget) {
		t.Errorf("target %s lacks %s", target, wantTarget)
	}
	pub, closePub, err := b.publisher(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closePub()
	probe, _ := sendFunc(pub)
	if err := awaitFlow(ctx, probe, s, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	intended := time.Now().Add(-5 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	for i := range 20 {
		if err := pub(ctx, benchEvent{ID: "e-" + string(rune('a'+i)), Time: intended}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub(ctx, benchEvent{ID: "e-a", Time: intended}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Count() < 21 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	st := s.Stats()
	if st.Count != 21 || st.Duplicates != 1 || st.NoTime != 0 || st.P50 < 5 {
		t.Fatalf("stats %+v: want 21 events, 1 duplicate, latency ≥ 5 ms", st)
	}
}

func TestNATSDirectRoundTrip(t *testing.T) {
	b, err := startNATS()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	roundTrip(t, b, "subject: bench.out")
}

func TestKafkaDirectRoundTrip(t *testing.T) {
	b, err := startKafka()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	roundTrip(t, b, "topic: bench-out")
}

func TestMQTTDirectRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Skip("mosquitto not installed (Debian package mosquitto)")
	}
	r := &runner{cfg: &config{Mosquitto: "mosquitto"}}
	b, err := r.startMosquitto(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	roundTrip(t, b, "{type: http, url: \"http://127.0.0.1:")
}
