package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/eventbridge-dev/eventbridge/internal/circuit"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
)

// OutcomeDeferred is the outcome of a delivery that the target's circuit
// breaker did not let go: it was queued in RETRY without an attempt.
const OutcomeDeferred = "deferred"

// Guard is a target's rate limit and circuit breaker (the rate_limit and
// circuit_breaker settings every target kind has), enforced by delivery
// around Send rather than by each connector. One Guard serves every route
// to its target, so the limit and the failure count are the target's, not
// a rule's. A nil *Guard lets everything through.
//
// A delivery waits for the rate limit (honouring ctx) and that wait costs
// no attempt. While the breaker is open, a delivery is not sent: it is
// queued in RETRY, due when the breaker lets a trial through, with its
// attempts unchanged, so an outage is not counted against max_attempts and
// dead-letters nothing (docs/architecture.md, "Delivery").
type Guard struct {
	name    string
	limiter *rate.Limiter
	breaker *circuit.Breaker
}

// GuardOptions are the optional parts of NewGuard.
type GuardOptions struct {
	// Now is the breaker's clock; nil for the wall clock (tests inject one).
	Now func() time.Time
	// Log is told of every change of the breaker's state.
	Log *slog.Logger
}

// NewGuard returns the guard of target name with the rate_limit and
// circuit_breaker of its spec (defaults applied here), or nil when it sets
// neither.
func NewGuard(name string, c *connector.Common, o GuardOptions) *Guard {
	if c == nil || c.RateLimit == nil && c.CircuitBreaker == nil {
		return nil
	}
	g := &Guard{name: name}
	if r := c.RateLimit; r != nil {
		rl := *r
		rl.Defaults()
		g.limiter = rate.NewLimiter(rate.Limit(rl.PerSecond), rl.Burst)
	}
	if b := c.CircuitBreaker; b != nil {
		cb := *b
		cb.Defaults()
		g.breaker = circuit.New(cb.Failures, cb.OpenFor.D(), o.Now)
		if log := o.Log; log != nil {
			g.breaker.OnChange = func(from, to circuit.State) {
				log.Warn("circuit breaker", "target", name, "from", from.String(), "to", to.String())
			}
		}
	}
	return g
}

// Admit asks to send one delivery: it refuses at once while the breaker
// is open (ErrOpen, and how long until a trial may go), then waits for
// the rate limit until ctx is done. On nil, the caller must call done
// with ctx and Send's outcome.
func (g *Guard) Admit(ctx context.Context) (done func(ctx context.Context, err error), after time.Duration, err error) {
	if g == nil {
		return noOutcome, 0, nil
	}
	if g.breaker != nil {
		if left, err := g.breaker.Allow(); err != nil {
			return nil, left, fmt.Errorf("target %s: %w", g.name, err)
		}
	}
	if g.limiter != nil {
		if err := g.limiter.Wait(ctx); err != nil {
			if g.breaker != nil {
				g.breaker.Abandon()
			}
			return nil, 0, fmt.Errorf("target %s: rate limit: %w", g.name, err)
		}
	}
	return g.outcome, 0, nil
}

func noOutcome(context.Context, error) {}

// outcome tells the breaker how a delivery went. Success and permanent
// refusals (the target is up; retrying cannot fix the event) close it;
// other errors (timeouts, connection errors, 408, 429, 5xx, not
// connected) count as failures; a delivery the route gave up on (ctx
// done) tells nothing.
func (g *Guard) outcome(ctx context.Context, err error) {
	if g.breaker == nil {
		return
	}
	switch {
	case err == nil || connector.IsPermanent(err):
		g.breaker.Done(false)
	case ctx.Err() != nil:
		g.breaker.Abandon()
	default:
		g.breaker.Done(true)
	}
}

// Circuit returns the breaker's state ("closed", "open", "half-open"), or
// "" when the target has none.
func (g *Guard) Circuit() string {
	if g == nil || g.breaker == nil {
		return ""
	}
	return g.breaker.State().String()
}

// Watch returns c with the breaker's state in its health (detail
// "circuit"), where /readyz and the resource's status show it.
func (g *Guard) Watch(c component.Component) component.Component {
	if g == nil || g.breaker == nil {
		return c
	}
	return watched{c, g}
}

type watched struct {
	component.Component
	g *Guard
}

func (w watched) Health() component.Status {
	h := w.Component.Health()
	h.Detail = maps.Clone(h.Detail)
	if h.Detail == nil {
		h.Detail = map[string]any{}
	}
	h.Detail["circuit"] = w.g.Circuit()
	return h
}

// admit runs the route's guard before an attempt. When it returns false,
// t is settled: queued in RETRY without an attempt (the breaker is open),
// or handed back to the bus (the route is stopping).
func (r *Route) admit(ctx context.Context, t *Task) (func(context.Context, error), bool) {
	done, after, err := r.cfg.Guard.Admit(ctx)
	if err == nil {
		return done, true
	}
	if r.sendCtx.Err() != nil {
		t.Done(ErrStopped)
		return nil, false
	}
	trace.SpanFromContext(ctx).AddEvent("deferred: " + err.Error())
	r.cfg.Metrics.Deliveries.WithLabelValues(r.cfg.Rule, r.cfg.Target, OutcomeDeferred).Inc()
	t.Outcome = OutcomeDeferred
	r.cfg.Log.Debug("delivery deferred", "rule", r.cfg.Rule, "target", r.cfg.Target, "after", after, "err", err)
	t.Done(r.writeRetry(t, t.Attempts, time.Now().Add(after), 0, err, false))
	return nil, false
}
