package config

import (
	"strings"
	"testing"
	"time"
)

// Subscriptions' dead letters are kept for api.subscription_dlq_max_age
// (168h by default), or bus.dlq_max_age when that is shorter.
func TestSubscriptionDeadLetterTTL(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want time.Duration
	}{
		{"bus: {data_dir: ./x}", 168 * time.Hour},
		{"bus: {data_dir: ./x}\napi: {subscription_dlq_max_age: 1h}", time.Hour},
		{"bus: {data_dir: ./x, dlq_max_age: 24h}", 24 * time.Hour},
		{"bus: {data_dir: ./x, dlq_max_age: 720h}\napi: {subscription_dlq_max_age: 48h}", 48 * time.Hour},
	} {
		c, err := Parse([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.SubscriptionDeadLetterTTL(); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.yaml, got, tc.want)
		}
	}
	_, err := Parse([]byte("api: {subscription_dlq_max_age: 10ms}"))
	if err == nil || !strings.Contains(String(err), "api.subscription_dlq_max_age: must be at least 1s") {
		t.Errorf("a max age under 1s: %v", err)
	}
}
