package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// keyedSink is an HTTP target that fails 10% of attempts with a
// retryable 503 and is slow at random. It records, per key (the header
// keyHeader), the numbers (the request body, a decimal) of each event's
// first successful delivery, in the order they came.
type keyedSink struct {
	keyHeader string

	mu       sync.Mutex
	first    map[string][]int
	done     map[string]bool // ce-id delivered
	attempts int
	failed   int
}

func newKeyedSink(keyHeader string) *keyedSink {
	return &keyedSink{keyHeader: keyHeader, first: map[string][]int{}, done: map[string]bool{}}
}

func (s *keyedSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1024))
	id, key := r.Header.Get("ce-id"), r.Header.Get(s.keyHeader)
	d := time.Duration(rand.IntN(4)) * time.Millisecond
	if rand.IntN(50) == 0 {
		d = 30 * time.Millisecond
	}
	time.Sleep(d) // the target's own slowness, not a wait of the test
	fail := rand.IntN(10) == 0
	s.mu.Lock()
	s.attempts++
	if fail {
		s.failed++
	} else if !s.done[id] {
		s.done[id] = true
		if n, err := strconv.Atoi(strings.TrimSpace(string(body))); err == nil {
			s.first[key] = append(s.first[key], n)
		}
	}
	s.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// count is how many events of the keys accepted were delivered.
func (s *keyedSink) count(accept func(key string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.first {
		if accept(k) {
			n += len(v)
		}
	}
	return n
}

// check fails the test unless each key got 0..perKey-1, in order.
func (s *keyedSink) check(t *testing.T, keys []string, perKey int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	bad := 0
	for _, key := range keys {
		got := s.first[key]
		if len(got) != perKey {
			t.Errorf("key %s: %d first deliveries, want %d", key, len(got), perKey)
			continue
		}
		for i, n := range got {
			if n != i {
				t.Errorf("key %s: delivery %d was event %d (first deliveries around it %v)", key, i, n, got[max(0, i-3):min(len(got), i+4)])
				bad++
				break
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d keys out of order", bad, len(keys))
	}
	if s.failed == 0 {
		t.Errorf("the target never failed (%d attempts): the test did not test retries", s.attempts)
	}
}

// orderedRule is the rule of both tests: ordered by key, retried fast.
const orderedRule = `
rules:
  ordered:
    targets: [sink]
    ordering: {key: %s}
    delivery: {concurrency: 32, max_attempts: 1000, backoff: {initial: 20ms, max: 200ms}}
`

// TestOrderingKafkaPartitionKey: 1,000 records over 20 keys on a topic of
// 3 partitions (kfake, in this process, on a real port), produced in
// order per key with the key as the record key; the Kafka source sets
// partitionkey from it and a rule orders by partitionkey. Per key, the
// target's first successful deliveries come in produce order although it
// fails 10% of attempts and is slow at random.
func TestOrderingKafkaPartitionKey(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const (
		nkeys  = 20
		perKey = 50
		topic  = "orders"
	)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CreateTopic(topic, 3, nil); err != nil {
		t.Fatal(err)
	}
	broker := c.ListenAddrs()[0]
	sink := newKeyedSink("ce-partitionkey")
	srv := httptest.NewServer(sink)
	defer srv.Close()

	keys := make([]string, nkeys)
	for k := range keys {
		keys[k] = fmt.Sprintf("key%02d", k)
	}
	// Interleave the keys, so that each partition holds several keys'
	// records mixed; one ProduceSync keeps the order of each partition.
	recs := make([]*kgo.Record, 0, nkeys*perKey)
	for i := 0; i < perKey; i++ {
		for _, key := range keys {
			recs = append(recs, &kgo.Record{
				Topic: topic, Key: []byte(key), Value: []byte(strconv.Itoa(i)),
				Headers: []kgo.RecordHeader{
					{Key: "ce_specversion", Value: []byte("1.0")},
					{Key: "ce_id", Value: []byte(fmt.Sprintf("%s-%d", key, i))},
					{Key: "ce_source", Value: []byte("/kafka-e2e")},
					{Key: "ce_type", Value: []byte("com.example.ordered")},
					{Key: "content-type", Value: []byte("application/json")},
				},
			})
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parts := map[int32]bool{}
	res := cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		parts[r.Record.Partition] = true
	}
	if len(parts) < 2 {
		t.Fatalf("the keys landed in %d partition(s); the test wants several", len(parts))
	}

	addr := freeAddr(t)
	began := time.Now()
	p := start(t, writeConfig(t, addr, fmt.Sprintf(`
sources:
  kin: {type: kafka, brokers: [%q], topics: [%q], max_poll_records: 100}
targets: {sink: {type: http, url: %q, timeout: 5s}}
`+orderedRule, broker, topic, srv.URL, "partitionkey")), addr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", p.log())
		}
	})
	all := func(string) bool { return true }
	testkit.Eventually(t, 60*time.Second, func() bool { return sink.count(all) >= len(recs) },
		"sink has %d first deliveries of %d", sink.count(all), len(recs))
	sink.check(t, keys, perKey)
	t.Logf("%d records over %d keys and %d partitions, %d attempts (%d failed), %s",
		len(recs), nkeys, len(parts), sink.attempts, sink.failed, time.Since(began).Round(time.Millisecond))
}

// TestIntegrationOrderingMQTTTopic: 5 topics x 100 messages published in
// order (QoS 1) to the machine's Mosquitto; the mqtt source wraps them,
// which makes the topic the event's subject, and a rule orders by
// subject. Per topic, with the source on MQTT 5 and on 3.1.1, the
// target's first successful deliveries come in publish order although it
// fails 10% of attempts and is slow at random. Skipped without Mosquitto
// (failed under EVENTBRIDGE_INTEGRATION=1).
func TestIntegrationOrderingMQTTTopic(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testkit.NeedTCP(t, "127.0.0.1:1883", "Mosquitto")
	for _, v := range []string{"5", "3.1.1"} {
		t.Run("v"+v, func(t *testing.T) { orderingMQTTTopic(t, v) })
	}
}

// orderingMQTTTopic runs the MQTT ordering test with the source on the
// protocol version given.
func orderingMQTTTopic(t *testing.T, version string) {
	const (
		ntopics = 5
		perKey  = 100
	)
	base := fmt.Sprintf("ebe2e-order/%d-%d", time.Now().UnixNano(), rand.IntN(1e6))
	sink := newKeyedSink("ce-subject")
	srv := httptest.NewServer(sink)
	defer srv.Close()

	addr := freeAddr(t)
	began := time.Now()
	p := start(t, writeConfig(t, addr, fmt.Sprintf(`
sources:
  min:
    type: mqtt
    url: mqtt://127.0.0.1:1883
    topics: ["%s/#"]
    version: %q
    qos: 1
    wrap: {type: com.example.mqtt.ordered, source: /mosquitto}
targets: {sink: {type: http, url: %q, timeout: 5s}}
`+orderedRule, base, version, srv.URL, "subject")), addr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", p.log())
		}
	})

	o := paho.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").
		SetClientID(strings.ReplaceAll(base, "/", "-") + "-pub").SetCleanSession(true).SetOrderMatters(true)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to Mosquitto: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	publish := func(topic, payload string) {
		t.Helper()
		tok := cl.Publish(topic, 1, false, payload)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish to %s: %v", topic, tok.Error())
		}
	}
	// The source subscribes in the background: publish probes until one
	// comes through, so that no ordered message is published before it.
	probe := base + "/probe"
	isProbe := func(k string) bool { return k == probe }
	testkit.Eventually(t, 20*time.Second, func() bool {
		if sink.count(isProbe) > 0 {
			return true
		}
		publish(probe, "-1")
		return sink.count(isProbe) > 0
	}, "no probe message came through the bridge")

	topics := make([]string, ntopics)
	for k := range topics {
		topics[k] = fmt.Sprintf("%s/t%d", base, k)
	}
	// Each topic's messages in order, the topics interleaved; every
	// PUBLISH acknowledged (PUBACK) before the next.
	for i := 0; i < perKey; i++ {
		for _, tp := range topics {
			publish(tp, strconv.Itoa(i))
		}
	}
	ours := func(k string) bool { return strings.HasPrefix(k, base+"/t") }
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.count(ours) >= ntopics*perKey },
		"sink has %d first deliveries of %d", sink.count(ours), ntopics*perKey)
	sink.check(t, topics, perKey)
	t.Logf("MQTT %s: %d messages over %d topics, %d attempts (%d failed), %s",
		version, ntopics*perKey, ntopics, sink.attempts, sink.failed, time.Since(began).Round(time.Millisecond))
}
