package mqtt

import (
	"fmt"
	"os"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// harness pairs an mqtt target with an mqtt source on the topics
// <channel>/<type> (the target's template) and <channel>/# (the
// source's filter). restart, when set, restarts the broker and waits as
// it sees fit, given the last channel.
func harness(url string, version Version, qos int, restart func(t testing.TB, channel string)) connectortest.Harness {
	modes := []string{"binary", "structured"}
	if version == V311 {
		modes = []string{"structured"}
	}
	var last string
	h := connectortest.Harness{
		// QoS 0 is at most once: the broker keeps nothing unacknowledged.
		// Mosquitto keeps at most max_queued_messages (1000) per client.
		Features:   connectortest.Features{Modes: modes, Persistent: qos > 0, Ordered: true, Window: 500},
		SourceType: "mqtt", TargetType: "mqtt",
		Source: func(_ testing.TB, ch string) string {
			last = ch
			return fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"client_id":%q,"topics":[%q],"qos":%d}`, url, version, "eb-src-"+ch, ch+"/#", qos)
		},
		Target: func(_ testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"topic":%q,"mode":%q,"qos":%d}`, url, version, ch+"/{type}", mode, qos)
		},
	}
	if restart != nil {
		h.RestartBroker = func(t testing.TB) { restart(t, last) }
	}
	return h
}

// The mqtt source and target pass the conformance suite against an
// embedded broker, in MQTT 5 (binary and structured) and 3.1.1.
func TestConformance(t *testing.T) {
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			b := startBroker(t)
			// QoS 0: mochi v2.7.9 deadlocks under QoS 1 load. A client
			// with messages in flight that sends a packet (a PUBACK) runs
			// Inflight.NextImmediate, which takes the read lock twice;
			// a publisher adding to that client's Inflight in between
			// (Set, the write lock) blocks both for good. QoS 1 and 2 are
			// proved against Mosquitto (TestIntegrationConformance) and,
			// at low volume, in at_least_once_test.go.
			connectortest.Run(t, harness(b.url(), v, 0, func(t testing.TB, ch string) {
				b.restart(t, func() string { return ch + "/x" })
			}))
		})
	}
}

// The same against the machine's Mosquitto. Restarting it (the reconnect
// scenario) only happens under EVENTBRIDGE_INTEGRATION=1.
func TestIntegrationConformance(t *testing.T) {
	if raceDetector {
		// Under the race detector a 3.1.1 source (which Mosquitto sends 20
		// messages at a time) can fall 1,000 messages behind the 10,000
		// event scenario, and Mosquitto drops what is over its
		// max_queued_messages. The unit-level suite runs with -race;
		// make test-integration runs this one without.
		t.Skip("run without -race (make test-integration)")
	}
	url := mosquittoURL(t)
	var restart func(testing.TB, string)
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" && os.Getenv("EVENTBRIDGE_MQTT_URL") == "" {
		restart = func(t testing.TB, _ string) { restartMosquitto(t) }
	}
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			connectortest.Run(t, harness(url, v, 1, restart))
		})
	}
}
