package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/Azure/go-amqp"
	"github.com/google/uuid"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// rabbitAMQP1 is the AMQP 1.0 broker of the integration tests: RabbitMQ
// (with its rabbitmq_amqp1_0 plugin on 3.x).
func rabbitAMQP1(t *testing.T) (amqp1URL, adminURL string) {
	t.Helper()
	amqp1URL, adminURL = "amqp://127.0.0.1:5672", "amqp://guest:guest@127.0.0.1:5672/"
	if u := os.Getenv("EVENTBRIDGE_AMQP1_URL"); u != "" {
		amqp1URL = u
	}
	if u := os.Getenv("EVENTBRIDGE_AMQP_URL"); u != "" {
		adminURL = u
	}
	testkit.LockService(t, "rabbitmq") // other packages restart it
	testkit.NeedAMQP1(t, amqp1URL)
	return amqp1URL, adminURL
}

// declareRabbitQueue declares a durable queue (AMQP 0-9-1) and deletes it
// when the test ends.
func declareRabbitQueue(t *testing.T, adminURL, q string) {
	t.Helper()
	admin := func(f func(*amqp091.Channel) error) error {
		conn, err := amqp091.Dial(adminURL)
		if err != nil {
			return err
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return err
		}
		defer ch.Close()
		return f(ch)
	}
	var err error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = admin(func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(q, true, false, false, false, nil)
			return err
		}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("declare queue %s: %v", q, err)
	}
	t.Cleanup(func() {
		_ = admin(func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	})
}

// amqpReceiver attaches a receiver to an address of the broker.
func amqpReceiver(t *testing.T, brokerURL, address string) *amqp.Receiver {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := amqp.Dial(ctx, brokerURL, &amqp.ConnOptions{SASLType: amqp.SASLTypePlain("guest", "guest")})
	if err != nil {
		t.Fatalf("dial %s: %v", brokerURL, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, address, &amqp.ReceiverOptions{Credit: 10})
	if err != nil {
		t.Fatalf("receiver on %s: %v", address, err)
	}
	return rcv
}

// receiveEvent waits up to 60s for the next message and returns its
// CloudEvents id and type (binary mode: application properties).
func receiveEvent(t *testing.T, rcv *amqp.Receiver) (id, typ string, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatalf("no message arrived: %v", err)
	}
	if err := rcv.AcceptMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	id, _ = m.ApplicationProperties["cloudEvents:id"].(string)
	typ, _ = m.ApplicationProperties["cloudEvents:type"].(string)
	return id, typ, m.GetData()
}

// TestIntegrationSubscriptionAMQP subscribes an AMQP 1.0 address through
// the Subscriptions API and reads the events from the broker with an
// independent AMQP 1.0 client.
func TestIntegrationSubscriptionAMQP(t *testing.T) {
	brokerURL, adminURL := rabbitAMQP1(t)
	hostPort := strings.TrimPrefix(brokerURL, "amqp://")
	q1, q2 := "eb-sub-amqp-"+uuid.NewString()[:8], "eb-sub-amqp-"+uuid.NewString()[:8]
	declareRabbitQueue(t, adminURL, q1)
	declareRabbitQueue(t, adminURL, q2)
	b := startBridge(t, `
api: {allow_private_addresses: true} # the broker is on loopback
sources: {in: {type: http, path: /events}}
`)
	c := api(t, b)
	// The address in the sink's path (after the first slash), credentials
	// as SASL PLAIN, a types filter.
	code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{
		"sink": "amqp://%s//amq/queue/%s", "protocol": "AMQP", "types": ["com.a"],
		"sinkcredential": {"credentialtype": "PLAIN", "identifier": "guest", "secret": "guest"}}`, hostPort, q1))
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	if cred := m["sinkcredential"].(map[string]any); cred["secret"] != nil {
		t.Errorf("secret returned: %v", cred)
	}
	id1 := m["id"].(string)
	// The address in protocolsettings, with link settings.
	code, _, m = c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{
		"sink": "amqp://%s", "protocol": "AMQP", "types": ["com.b"],
		"protocolsettings": {"address": "/amq/queue/%s", "linkname": "eb-test-link", "sendersettlementmode": "unsettled", "linkproperties": {"team": "x"}},
		"sinkcredential": {"credentialtype": "PLAIN", "identifier": "guest", "secret": "guest"}}`, hostPort, q2))
	if code != 201 {
		t.Fatalf("create 2: %d %v", code, m)
	}
	rcv1 := amqpReceiver(t, brokerURL, "/amq/queue/"+q1)
	rcv2 := amqpReceiver(t, brokerURL, "/amq/queue/"+q2)

	for _, e := range [][2]string{{"e1", "com.a"}, {"e2", "com.c"}, {"e3", "com.b"}, {"e4", "com.a"}} {
		if code := sendEventSubject(t, b, e[0], e[1], "s"); code != 202 {
			t.Fatalf("send %s: %d", e[0], code)
		}
	}
	for _, want := range []string{"e1", "e4"} {
		if id, typ, body := receiveEvent(t, rcv1); id != want || typ != "com.a" || string(body) != "{}" {
			t.Errorf("queue 1: got %s %s %q, want %s com.a", id, typ, body, want)
		}
	}
	if id, typ, _ := receiveEvent(t, rcv2); id != "e3" || typ != "com.b" {
		t.Errorf("queue 2: got %s %s, want e3 com.b", id, typ)
	}

	// Deleting the subscription stops the deliveries to its address.
	if code, _, _ := c.do("DELETE", "/v1/subscriptions/"+id1, ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		_, ok := b.Health().Components["route/subscription-"+id1+"/subscription-"+id1]
		return !ok
	}, "subscription still running after delete")
	for _, e := range [][2]string{{"e5", "com.a"}, {"e6", "com.b"}} {
		if code := sendEventSubject(t, b, e[0], e[1], "s"); code != 202 {
			t.Fatalf("send %s: %d", e[0], code)
		}
	}
	if id, _, _ := receiveEvent(t, rcv2); id != "e6" {
		t.Errorf("queue 2: got %s, want e6", id)
	}
	// e6 went out after e5 was routed: the deleted subscription had its
	// chance and must not have delivered e5.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if m, err := rcv1.Receive(ctx, nil); err == nil {
		t.Errorf("deleted subscription delivered %v", m.ApplicationProperties["cloudEvents:id"])
	}
}

// AMQP sinks pass the same SSRF check as HTTP ones.
func TestSubscriptionAMQPSinksAreGuarded(t *testing.T) {
	b := startBridge(t, `sources: {in: {type: http, path: /events}}`)
	c := api(t, b)
	for _, sink := range []string{"amqp://127.0.0.1:5672/q", "amqps://localhost/q", "amqp://169.254.169.254/q", "amqp://10.1.2.3/q"} {
		code, hdr, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "AMQP"}`, sink))
		if code != 400 || !strings.Contains(hdr.Get("Content-Type"), "problem+json") || !strings.Contains(toJSON(m), `"field":"sink"`) || !strings.Contains(toJSON(m), "not allowed") {
			t.Errorf("sink %s: %d %v", sink, code, m)
		}
	}
	code, _, m := c.do("POST", "/v1/subscriptions", `{"sink": "amqp://broker.example/q", "protocol": "AMQP", "protocolsettings": {"method": "PUT"}}`)
	if code != 400 || !strings.Contains(toJSON(m), "protocolsettings.method") {
		t.Errorf("HTTP setting on AMQP: %d %v", code, m)
	}
}

var subscriptionsGauge = regexp.MustCompile(`(?m)^eventbridge_subscriptions\{(?:[^}]*,)?state="([a-z]+)"[^}]*\} (\d+)$`)

// subscriptionCounts reads eventbridge_subscriptions from /metrics.
func subscriptionCounts(t *testing.T, b *server.Bridge) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + b.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	got := map[string]int{}
	for _, m := range subscriptionsGauge.FindAllStringSubmatch(string(text), -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	return got
}

// The eventbridge_subscriptions gauge follows creates, deletes and a
// subscription that cannot run, and is right again after a restart.
func TestSubscriptionsGauge(t *testing.T) {
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(`
api: {allow_private_addresses: true}
sources: {in: {type: http, path: /events}}
`))
	if err != nil {
		t.Fatal(config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := startBridgeConfig(t, cfg)
	c := api(t, b)
	want := func(b *server.Bridge, running, failed int) {
		t.Helper()
		var got map[string]int
		testkit.Eventually(t, 30*time.Second, func() bool {
			got = subscriptionCounts(t, b)
			return got["running"] == running && got["failed"] == failed && len(got) == 2
		}, "eventbridge_subscriptions %v, want running=%d failed=%d", got, running, failed)
	}
	want(b, 0, 0)
	var ids []string
	for range 3 {
		code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL))
		if code != 201 {
			t.Fatalf("create: %d %v", code, m)
		}
		ids = append(ids, m["id"].(string))
	}
	want(b, 3, 0)
	if code, _, _ := c.do("DELETE", "/v1/subscriptions/"+ids[0], ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	want(b, 2, 0)
	// A stored subscription that cannot run (the API refuses such specs;
	// a store written by an older or newer bridge may hold one) counts as
	// failed.
	bad := &resource.Object{Kind: resource.KindSubscription, Name: "broken", Origin: resource.OriginAPI,
		Spec: []byte(`{"sink":"amqp:///","protocol":"AMQP"}`)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Store().Put(ctx, bad, 0, true); err != nil {
		t.Fatal(err)
	}
	want(b, 2, 1)

	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	b2 := startBridgeConfig(t, cfg)
	want(b2, 2, 1)
}

// TestIntegrationOranAMQP: an O-RAN subscription whose endpointUri is an
// AMQP 1.0 address gets the resource's events through the amqp1 target,
// as CloudEvent JSON (what an HTTP endpoint gets in its body).
func TestIntegrationOranAMQP(t *testing.T) {
	brokerURL, adminURL := rabbitAMQP1(t)
	hostPort := strings.TrimPrefix(brokerURL, "amqp://")
	q := "eb-oran-amqp-" + uuid.NewString()[:8]
	declareRabbitQueue(t, adminURL, q)
	b := startBridge(t, oranConfig)
	const addr = "/east-edge-10/Node3/sync/ptp-status/lock-state"
	endpoint := fmt.Sprintf("amqp://%s//amq/queue/%s", hostPort, q)
	// v1: no HTTP handshake for an AMQP endpoint (RabbitMQ's default
	// config takes SASL ANONYMOUS as guest on loopback).
	code, _, body := oranDo(t, b, "POST", "/api/ocloudNotifications/v1/subscriptions", fmt.Sprintf(`{"resource":%q,"endpointUri":%q}`, addr, endpoint))
	if code != 201 {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	rcv := amqpReceiver(t, brokerURL, "/amq/queue/"+q)
	postState(t, b, "amqp-1", addr, "LOCKED")
	_, _, data := receiveEvent(t, rcv)
	if !strings.Contains(string(data), `"LOCKED"`) || !strings.Contains(string(data), addr) || !strings.Contains(string(data), `"specversion"`) {
		t.Errorf("message %s", data)
	}
	// An AMQP endpoint without an address is refused.
	code, _, body = oranDo(t, b, "POST", "/api/ocloudNotifications/v1/subscriptions", fmt.Sprintf(`{"resource":%q,"endpointUri":"amqp://%s"}`, addr, hostPort))
	if code != 400 {
		t.Errorf("no address: %d %s", code, body)
	}
}
