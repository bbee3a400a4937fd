package redis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/redis"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func streamHarness(url string, restart func(testing.TB)) connectortest.Harness {
	return connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured"}, Persistent: true, Ordered: true},
		SourceType: "redis", TargetType: "redis",
		Source: func(t testing.TB, ch string) string {
			return fmt.Sprintf(`{"type":"redis","url":%q,"stream":%q,"batch":500}`, url, ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"redis","url":%q,"stream":%q,"mode":%q}`, url, ch, mode)
		},
		RestartBroker: restart,
	}
}

// Pub/sub keeps nothing for a disconnected subscriber, so the suite's
// redelivery and reconnect scenarios do not apply (TestPubSubReconnect
// covers resubscribing).
func pubsubHarness(url string) connectortest.Harness {
	return connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"structured"}, Ordered: true},
		SourceType: "redis", TargetType: "redis",
		Source: func(t testing.TB, ch string) string {
			return fmt.Sprintf(`{"type":"redis","url":%q,"channel":%q}`, url, ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"redis","url":%q,"channel":%q,"mode":%q}`, url, ch, mode)
		},
	}
}

func startMini(t testing.TB) *miniredis.Miniredis {
	t.Helper()
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// TestConformance runs the suite against miniredis, an in-process server.
func TestConformance(t *testing.T) {
	m := startMini(t)
	addr := m.Addr()
	url := "redis://" + addr
	// A restart is a new server on the same address: miniredis's own
	// Restart leaves blocking commands (XREADGROUP BLOCK) broken, as the
	// context they wait on stays cancelled. Like the machine's Redis, which
	// keeps nothing on disk, the new one starts empty.
	restart := func(t testing.TB) {
		m.Close()
		m = miniredis.NewMiniRedis()
		if err := m.StartAddr(addr); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { m.Close() })
	t.Run("Stream", func(t *testing.T) { connectortest.Run(t, streamHarness(url, restart)) })
	t.Run("PubSub", func(t *testing.T) { connectortest.Run(t, pubsubHarness(url)) })
}

// redisURL is the machine's Redis, or skips (fails under
// EVENTBRIDGE_INTEGRATION=1) when it does not answer.
func redisURL(t *testing.T) string {
	url := os.Getenv("EVENTBRIDGE_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		testkit.Missing(t, "no redis at %s: %v", url, err)
	}
	return url
}

// restartRedis restarts the machine's Redis with the command of
// SERVICES.md, and leaves it running. Only under EVENTBRIDGE_INTEGRATION=1:
// it disturbs everyone using that server.
func restartRedis(t testing.TB) {
	t.Helper()
	_ = exec.Command("redis-cli", "shutdown", "nosave").Run()
	out, err := exec.Command("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
		"--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-server: %v\n%s", err, out)
	}
	connectortest.Eventually(t, 30*time.Second, func() bool {
		return exec.Command("redis-cli", "ping").Run() == nil
	}, "redis did not come back")
}

// TestIntegrationConformance runs the suite against the machine's Redis.
// Redis keeps nothing on disk here, so a restart loses the stream and its
// group; the source creates them again.
func TestIntegrationConformance(t *testing.T) {
	url := redisURL(t)
	var restart func(testing.TB)
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" && url == "redis://127.0.0.1:6379/0" {
		testkit.NeedTool(t, "redis-cli", "Debian package redis-tools") // restartRedis stops and pings with it
		restart = restartRedis
	}
	t.Run("Stream", func(t *testing.T) { connectortest.Run(t, streamHarness(url, restart)) })
	t.Run("PubSub", func(t *testing.T) { connectortest.Run(t, pubsubHarness(url)) })
}
