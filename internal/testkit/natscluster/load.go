package natscluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Load sends CloudEvents (binary mode, source Source, ids Prefix-000001...)
// at a steady rate to the replicas' HTTP source at Path, round robin, and
// keeps the answer to each. A refused event (not 2xx, or no connection)
// is sent again to the next replica, as a producer behind a load balancer
// would, until it is acknowledged or Give passes.
type Load struct {
	Rate    int           // events per second
	Source  string        // ce-source
	Prefix  string        // id prefix
	Path    string        // the HTTP source's path, e.g. /events
	Give    time.Duration // how long one event is retried; default 30s
	Workers int           // senders; default 64

	mu      sync.Mutex
	targets []string
	events  []*Sent
	byCode  map[int]int
	first   map[int]time.Time // first answer with a code
	last    map[int]time.Time // last answer with a code
	cancel  context.CancelFunc
	done    chan struct{}
	started time.Time
}

// Sent is the fate of one event.
type Sent struct {
	ID       string
	At       time.Time // first attempt
	AckedAt  time.Time // zero unless a 2xx came back
	Attempts int
	Last     int // last status, 0: no connection
}

// SetTargets changes the replicas' addresses (host:port) the load goes to.
func (l *Load) SetTargets(addrs ...string) {
	l.mu.Lock()
	l.targets = append([]string(nil), addrs...)
	l.mu.Unlock()
}

// Start begins sending; Stop ends it.
func (l *Load) Start() {
	if l.Give == 0 {
		l.Give = 30 * time.Second
	}
	if l.Workers == 0 {
		l.Workers = 64
	}
	l.byCode, l.first, l.last = map[int]int{}, map[int]time.Time{}, map[int]time.Time{}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	l.started = time.Now()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: l.Workers, MaxConnsPerHost: l.Workers}}
	work := make(chan *Sent, 4*l.Rate)
	var wg sync.WaitGroup
	for w := 0; w < l.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range work {
				l.send(client, ev)
			}
		}()
	}
	go func() {
		defer close(l.done)
		defer wg.Wait()
		defer close(work)
		period := time.Second / time.Duration(l.Rate)
		next := time.Now()
		for i := 1; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			next = next.Add(period)
			ev := &Sent{ID: fmt.Sprintf("%s-%06d", l.Prefix, i), At: time.Now()}
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.mu.Unlock()
			select {
			case work <- ev:
			case <-ctx.Done(): // never sent: not counted
				l.mu.Lock()
				l.events = l.events[:len(l.events)-1]
				l.mu.Unlock()
				return
			}
		}
	}()
}

// Stop stops generating events and waits for the ones in flight to be
// acknowledged or given up.
func (l *Load) Stop() {
	l.cancel()
	<-l.done
}

func (l *Load) send(client *http.Client, ev *Sent) {
	deadline := ev.At.Add(l.Give)
	for n := 0; ; n++ {
		l.mu.Lock()
		targets := l.targets
		l.mu.Unlock()
		code := 0
		if len(targets) > 0 {
			code = post(client, targets[(int(ev.At.UnixNano()/1000)+n)%len(targets)], l.Path, l.Source, ev.ID)
		}
		now := time.Now()
		l.mu.Lock()
		ev.Attempts++
		ev.Last = code
		l.byCode[code]++
		if _, ok := l.first[code]; !ok {
			l.first[code] = now
		}
		l.last[code] = now
		if code/100 == 2 {
			ev.AckedAt = now
		}
		l.mu.Unlock()
		if code/100 == 2 || now.After(deadline) {
			return
		}
		time.Sleep(min(20*time.Millisecond<<min(n, 4), 250*time.Millisecond))
	}
}

func post(client *http.Client, addr, path, source, id string) int {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(`{"id":"`+id+`"}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", source)
	req.Header.Set("ce-type", "com.example.cluster")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}

// Events returns the events sent so far.
func (l *Load) Events() []Sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Sent, len(l.events))
	for i, e := range l.events {
		out[i] = *e
	}
	return out
}

// Acked is the number of events acknowledged so far.
func (l *Load) Acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if !e.AckedAt.IsZero() {
			n++
		}
	}
	return n
}

// Answers returns how many answers of each status came back (0: no
// connection), and, for each, the span from the first to the last.
func (l *Load) Answers() (count map[int]int, window map[int]time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	count, window = map[int]int{}, map[int]time.Duration{}
	for c, n := range l.byCode {
		count[c] = n
		window[c] = l.last[c].Sub(l.first[c])
	}
	return count, window
}
