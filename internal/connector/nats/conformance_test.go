package nats

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// coreHarness pairs a nats target (subject <channel>.<type>) with a nats
// source (<channel>.>). waitReady, after a restart, waits until the
// source has subscribed again.
func coreHarness(url string, restart func(t testing.TB), waitReady func(t testing.TB, subject string)) connectortest.Harness {
	var last string
	h := connectortest.Harness{
		// Core NATS keeps nothing: at most once.
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Ordered: true},
		SourceType: "nats", TargetType: "nats",
		Source: func(_ testing.TB, ch string) string {
			last = ch
			return fmt.Sprintf(`{"type":"nats","url":%q,"subjects":[%q]}`, url, ch+".>")
		},
		Target: func(_ testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"nats","url":%q,"subject":%q,"mode":%q}`, url, ch+".{type}", mode)
		},
	}
	if restart != nil {
		h.RestartBroker = func(t testing.TB) {
			restart(t)
			waitReady(t, last+".probe")
		}
	}
	return h
}

// jsHarness pairs a jetstream target with a jetstream source that creates
// the stream EB_<channel> on <channel>.>; the stream is deleted when the
// test ends.
func jsHarness(url string, restart func(t testing.TB)) connectortest.Harness {
	return connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Persistent: true, Ordered: true},
		SourceType: "jetstream", TargetType: "jetstream",
		Source: func(t testing.TB, ch string) string {
			stream := "EB_" + ch
			t.Cleanup(func() { deleteStream(url, stream) })
			return fmt.Sprintf(`{"type":"jetstream","url":%q,"stream":%q,"create_stream":true,"subjects":[%q],"ack_wait":"5s"}`, url, stream, ch+".>")
		},
		Target: func(_ testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"jetstream","url":%q,"subject":%q,"mode":%q}`, url, ch+".{type}", mode)
		},
		RestartBroker: restart,
	}
}

func deleteStream(url, stream string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream)
}

// The nats and jetstream connectors pass the conformance suite against an
// embedded nats-server.
func TestConformance(t *testing.T) {
	t.Run("core", func(t *testing.T) {
		s := startServer(t)
		connectortest.Run(t, coreHarness(s.url(), s.restart, s.waitForSubscriber))
	})
	t.Run("jetstream", func(t *testing.T) {
		s := startServer(t)
		connectortest.Run(t, jsHarness(s.url(), s.restart))
	})
}

// The same against the machine's NATS. Restarting it (the reconnect
// scenario) only happens under EVENTBRIDGE_INTEGRATION=1.
func TestIntegrationConformance(t *testing.T) {
	if raceDetector {
		t.Skip("run without -race (make test-integration): minutes of 10,000-event runs against the real server")
	}
	url := natsURL(t)
	var restart func(testing.TB)
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" && os.Getenv("EVENTBRIDGE_NATS_URL") == "" {
		testkit.NeedTool(t, "ss", "Debian package iproute2") // restartLocalNATS finds the server's pid with it
		restart = restartLocalNATS
	}
	t.Run("core", func(t *testing.T) {
		connectortest.Run(t, coreHarness(url, restart, func(t testing.TB, subject string) { probeSubscriber(t, url, subject) }))
	})
	t.Run("jetstream", func(t *testing.T) {
		connectortest.Run(t, jsHarness(url, restart))
	})
}
