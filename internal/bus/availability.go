package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrUnavailable is returned by Publish (wrapping the server's or the
// client's error) when the bus cannot store events for now: no stream
// leader (a NATS node was lost and the cluster is electing another), no
// answer from the stream, JetStream not ready, or the connection is being
// re-established. Nothing was acknowledged; the producer should send the
// events again shortly (sources answer 503 with Retry-After). The bus logs
// the outage once, and its end.
var ErrUnavailable = errors.New("bus: unavailable")

// UnavailableRetryAfter is the Retry-After, in seconds, of a 503 answered
// while the bus is unavailable: about the time a JetStream cluster takes to
// elect a new stream leader.
const UnavailableRetryAfter = 2

// JetStream error codes that mean "no leader or not ready, try again".
const (
	jsClusterNoPeers     = 10005 // no suitable peers for placement
	jsClusterNotAvail    = 10008 // JetStream system temporarily unavailable
	jsClusterNotLeader   = 10009 // JetStream cluster can not handle request
	jsStreamOffline      = 10118 // stream is offline
	jsNotEnabled         = 10076 // JetStream not enabled (a server starting)
	jsNotEnabledForAcct  = 10039 // JetStream not enabled for account (idem)
	jsLastSeqPerSubjWait = 10163 // expected last sequence per subject temporarily unavailable
)

// IsUnavailable reports whether err means that the bus (the JetStream
// server or cluster) cannot answer for now but may shortly: ErrUnavailable,
// no responders or no answer from a stream, a request timeout, a
// connection being re-established, a consumer's missed heartbeat or
// change of leader, or one of the server's "no leader",
// "not ready" and "no suitable peers" answers. A context deadline is not
// one by itself (the caller's time ran out); Publish turns the deadline of
// an unanswered write into ErrUnavailable.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrNoServers) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, nats.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, jetstream.ErrConsumerLeadershipChanged) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsClusterNoPeers, jsClusterNotAvail, jsClusterNotLeader, jsStreamOffline, jsNotEnabled, jsNotEnabledForAcct, jsLastSeqPerSubjWait:
			return true
		}
		return apiErr.Code == 503
	}
	return false
}

// probeInterval is how often the bus checks, during an outage, whether its
// streams have a leader again.
const probeInterval = time.Second

// availability is the bus's view of whether the server answers: it changes
// (and logs) once per outage, not once per failed operation.
type availability struct {
	down    atomic.Bool // read without the lock by every publish
	mu      sync.Mutex
	since   time.Time
	probing bool
	failed  int // operations that failed during this outage
	stop    chan struct{}
	once    sync.Once
	probes  sync.WaitGroup
}

// Report tells the bus that an operation on it failed with err. When err
// means the bus is unavailable (IsUnavailable), the bus notes an outage:
// the first report logs it, the end of the outage is logged when the
// bus's streams have a leader again, and Report returns true: the caller
// need not log err itself. Other errors are left to the caller (false).
// Safe for concurrent use.
func (b *Bus) Report(err error) bool {
	if !IsUnavailable(err) {
		return false
	}
	a := &b.avail
	a.mu.Lock()
	a.failed++
	if a.down.Load() {
		a.mu.Unlock()
		return true
	}
	a.down.Store(true)
	a.since, a.failed = time.Now(), 1
	probe := !a.probing
	if probe {
		a.probing = true
		a.probes.Add(1)
	}
	a.mu.Unlock()
	b.log.Warn("bus unavailable: events are refused (503) and deliveries wait until the streams have a leader again; failures are not logged one by one",
		"err", err)
	if probe {
		go b.probe()
	}
	return true
}

// Available tells whether the bus answers (no outage noted by Report).
func (b *Bus) Available() bool { return !b.avail.down.Load() }

// noteUp ends an outage, if one was noted, after an operation succeeded.
func (b *Bus) noteUp() {
	a := &b.avail
	if !a.down.Load() {
		return
	}
	a.mu.Lock()
	if !a.down.Load() {
		a.mu.Unlock()
		return
	}
	a.down.Store(false)
	since, failed := a.since, a.failed
	a.mu.Unlock()
	b.log.Info("bus available again", "unavailable_for", time.Since(since).Round(time.Millisecond), "failed_operations", failed)
}

// probe checks every probeInterval whether the streams events are written
// to have a leader, until they do or the bus is closed.
func (b *Bus) probe() {
	defer b.avail.probes.Done()
	defer func() {
		b.avail.mu.Lock()
		b.avail.probing = false
		b.avail.mu.Unlock()
	}()
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-b.avail.stopped():
			return
		case <-t.C:
		}
		if b.Available() {
			return
		}
		if b.streamsLed() == nil {
			b.noteUp()
			return
		}
	}
}

// streamsLed checks that WORK and EVENTS answer, with a leader and a
// quorum of current replicas when they are replicated.
func (b *Bus) streamsLed() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range []string{StreamWork, StreamEvents} {
		s, err := b.js.Stream(ctx, b.n.stream(name))
		if err != nil {
			return err
		}
		c := s.CachedInfo().Cluster
		if c == nil {
			continue
		}
		if c.Leader == "" {
			return fmt.Errorf("stream %s has no leader", name)
		}
		// A leader that has lost its peers goes on naming itself until
		// its election times out: it leads only with a quorum, that is
		// with half its replicas (rounded up) current and online.
		current := 0
		for _, p := range c.Replicas {
			if p != nil && p.Current && !p.Offline {
				current++
			}
		}
		if need := (len(c.Replicas) + 1) / 2; current < need {
			return fmt.Errorf("stream %s: %d of %d replicas current, %d needed", name, current, len(c.Replicas), need)
		}
	}
	return nil
}

func (a *availability) stopped() chan struct{} {
	a.once.Do(func() { a.stop = make(chan struct{}) })
	return a.stop
}

// close stops the probe, and waits for it to end.
func (a *availability) close() {
	ch := a.stopped()
	a.mu.Lock()
	select {
	case <-ch:
	default:
		close(ch)
	}
	a.mu.Unlock()
	a.probes.Wait()
}

// publishErr is the error Publish returns for err: ErrStorageFull or
// ErrUnavailable (reported, see Report) when it is one, err otherwise.
// A write that got no answer before ctx's deadline counts as unavailable:
// a stream without a leader does not answer.
func (b *Bus) publishErr(err error) error {
	return fmt.Errorf("bus: publish: %w", b.writeErr(asStorageFull(err)))
}

// writeErr is the error of a write to a stream: ErrUnavailable (reported,
// see Report) when err means the bus is unavailable or the write got no
// answer before its deadline, err otherwise.
func (b *Bus) writeErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrStorageFull) && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: no answer from the stream: %w", ErrUnavailable, err)
	}
	if b.Report(err) && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
