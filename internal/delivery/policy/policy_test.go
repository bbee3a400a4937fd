package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func TestBackoff(t *testing.T) {
	zero := 0.0
	b := Backoff{Initial: spec.Duration(time.Second), Max: spec.Duration(10 * time.Second), Multiplier: 2, Jitter: &zero}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 500: 10 * time.Second} {
		if got := b.Delay(attempts); got != want {
			t.Errorf("Delay(%d) = %s, want %s", attempts, got, want)
		}
	}
	j := 0.5
	b.Jitter = &j
	for i := 0; i < 100; i++ {
		if d := b.Delay(1); d < 500*time.Millisecond || d > 1500*time.Millisecond {
			t.Fatalf("jittered delay %s outside ±50%%", d)
		}
	}
}

func TestPolicyDefaultsAndValidate(t *testing.T) {
	var p Policy
	p.Defaults()
	pr := spec.NewProblems("delivery")
	p.Validate(pr)
	if err := pr.Err(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if p.MaxAttempts != 10 || p.Concurrency != 32 || p.QueueSize != 256 || p.Backoff.Max.D() != 5*time.Minute {
		t.Fatalf("defaults: %+v", p)
	}
	bad := Policy{MaxAttempts: -1, Concurrency: 0, QueueSize: 0, Backoff: Backoff{Initial: spec.Duration(time.Minute), Max: spec.Duration(time.Second), Multiplier: 0.5}}
	pr = spec.NewProblems("delivery")
	bad.Validate(pr)
	msg := pr.Err().Error()
	for _, want := range []string{"delivery.max_attempts", "delivery.concurrency", "delivery.queue_size", "delivery.backoff.max", "delivery.backoff.multiplier"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %s in:\n%s", want, msg)
		}
	}
}
