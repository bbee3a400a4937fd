package component

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Supervised runs a component and restarts it with backoff when it fails
// to start or reports itself Failed, without taking the process down.
// Its Health is the component's, with the restart count in the detail.
type Supervised struct {
	name string
	c    Component
	log  *slog.Logger

	mu       sync.Mutex
	restarts int
	lastErr  error
	running  bool
	stop     chan struct{}
	done     chan struct{}

	// Backoff bounds; zero means 1s and 1m.
	MinBackoff, MaxBackoff time.Duration
	// OnFailure, when set, is told of every failure (before the restart).
	OnFailure func(name string, err error)
}

// Supervise wraps c; Start runs it. log is the component's own logger,
// which already carries its name (telemetry.Logs.Logger adds
// component=name), so the supervisor's lines do not add it again.
func Supervise(name string, c Component, log *slog.Logger) *Supervised {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervised{name: name, c: c, log: log}
}

// Component returns the supervised component.
func (s *Supervised) Component() Component { return s.c }

// Start starts the component. If that fails, the error is recorded and
// retried in the background with exponential backoff; Start itself returns
// nil, so that one broken component never stops the others.
func (s *Supervised) Start(ctx context.Context) error {
	err := s.c.Start(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.stop, s.done = stop, done
	s.running = err == nil
	s.mu.Unlock()
	if err != nil {
		s.failed(err)
	}
	go s.run(stop, done)
	return nil
}

func (s *Supervised) failed(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.running = false
	s.mu.Unlock()
	s.log.Error("component failed; restarting with backoff", "err", err)
	if s.OnFailure != nil {
		s.OnFailure(s.name, err)
	}
}

// run watches a running component (polling its health) and restarts a
// failed one with exponential backoff, until Stop.
func (s *Supervised) run(stop, done chan struct{}) {
	defer close(done)
	minWait, maxWait := s.MinBackoff, s.MaxBackoff
	if minWait == 0 {
		minWait = time.Second
	}
	if maxWait == 0 {
		maxWait = time.Minute
	}
	wait := minWait
	for {
		if s.Running() {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if h := s.c.Health(); h.State == Failed {
				s.failed(errorString(h.LastError))
			}
			continue
		}
		select {
		case <-stop:
			return
		case <-time.After(wait):
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
		_ = s.c.Stop(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.c.Start(ctx)
		cancel()
		if err != nil {
			s.failed(err)
			wait = min(wait*2, maxWait)
			continue
		}
		s.mu.Lock()
		s.running, s.lastErr = true, nil
		s.mu.Unlock()
		wait = minWait
		s.log.Info("component restarted")
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// Running reports whether the component runs.
func (s *Supervised) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Stop stops the retries and the component.
func (s *Supervised) Stop(ctx context.Context) error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return s.c.Stop(ctx)
}

// Health implements Component.
func (s *Supervised) Health() Status {
	h := s.c.Health()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running && s.lastErr != nil {
		h.State = Failed
		h.LastError = s.lastErr.Error()
	}
	if s.restarts > 0 {
		if h.Detail == nil {
			h.Detail = map[string]any{}
		}
		h.Detail["restarts"] = s.restarts
	}
	return h
}

var _ Component = (*Supervised)(nil)
