package kafka_test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/kafka"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeCluster is an in-process Kafka cluster (kfake) that keeps its data
// in a directory, so that it can be restarted on the same port.
type fakeCluster struct {
	c    *kfake.Cluster
	port int
	dir  string
}

func startFake(t testing.TB) *fakeCluster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	f := &fakeCluster{port: port, dir: t.TempDir()}
	f.start(t)
	t.Cleanup(func() { f.c.Close() })
	return f
}

func (f *fakeCluster) start(t testing.TB) {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(f.port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(3),
		kfake.DataDir(f.dir),
	)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	f.c = c
}

// restart closes the cluster and starts it again on the same port with
// the same data.
func (f *fakeCluster) restart(t testing.TB) {
	f.c.Close()
	f.start(t)
}

func (f *fakeCluster) addr() string { return fmt.Sprintf("127.0.0.1:%d", f.port) }

func harness(brokers string, restart func(testing.TB)) connectortest.Harness {
	return connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Persistent: true, Ordered: true},
		SourceType: "kafka", TargetType: "kafka",
		Source: func(t testing.TB, ch string) string {
			return fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"auto_create_topics":true}`, brokers, topic(ch))
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topic":%q,"mode":%q,"auto_create_topics":true}`, brokers, topic(ch), mode)
		},
		RestartBroker: restart,
	}
}

// topic makes a channel name a valid topic name.
func topic(ch string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, ch)
}

// TestConformance runs the suite against kfake, an in-process cluster
// that speaks the Kafka protocol.
func TestConformance(t *testing.T) {
	f := startFake(t)
	connectortest.Run(t, harness(f.addr(), f.restart))
}

// TestIntegrationConformance runs the suite against the cluster named by
// EVENTBRIDGE_KAFKA_BROKERS. Without one (this machine has no Kafka
// server) it uses kfake on a real TCP port, as the unit test does, so that
// the integration run (make test-integration) covers Kafka too.
func TestIntegrationConformance(t *testing.T) {
	if b := os.Getenv("EVENTBRIDGE_KAFKA_BROKERS"); b != "" {
		connectortest.Run(t, harness(b, nil))
		return
	}
	if os.Getenv("EVENTBRIDGE_INTEGRATION") != "1" {
		t.Skip("TestConformance runs the same against kfake; EVENTBRIDGE_INTEGRATION=1 runs it here too")
	}
	f := startFake(t)
	connectortest.Run(t, harness(f.addr(), f.restart))
}
