package procstat

import (
	"sync"
	"time"
)

// Sampler polls a process's RSS and keeps the largest value seen, to catch
// a peak even where VmHWM is unavailable or was reset.
type Sampler struct {
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex
	max  uint64
}

// StartSampler polls process pid's RSS every interval until Stop.
func StartSampler(pid int, every time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := Mem(pid); err == nil {
				s.mu.Lock()
				s.max = max(s.max, m.RSS)
				s.mu.Unlock()
			}
			select {
			case <-t.C:
			case <-s.stop:
				return
			}
		}
	})
	return s
}

// Max returns the largest RSS sampled so far, in bytes (0 if none).
func (s *Sampler) Max() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// Stop ends the polling and returns the largest RSS sampled. It may be
// called more than once.
func (s *Sampler) Stop() uint64 {
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
	return s.Max()
}
