package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pubAcks pipelines the writes of ingest (Publish): each message goes out
// with a reply subject of its own under one wildcard subscription, and its
// waiter is woken with what the store answered. It does what the jetstream
// package's PublishMsgAsync does for these writes, at a fraction of the
// allocation: a waiter and its reply subject are reused, the store's
// answer is read without reflection, and no per-write channels or futures
// are made (BenchmarkEndToEnd). Other writes (RETRY, DLQ, KV) keep the
// jetstream package.
type pubAcks struct {
	nc     *nats.Conn
	prefix string // the reply subjects' prefix, a new inbox and a dot
	sub    *nats.Subscription
	status chan nats.Status

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]*pubWait
	free    []*pubWait // waiters whose last write was answered
}

// pubWait is one write in flight: done receives once when it is answered
// (or the connection was lost, err then says so).
type pubWait struct {
	id    uint64
	reply string
	done  chan struct{}
	dup   bool
	seq   uint64 // the stored message's stream sequence
	err   error
}

// maxFreeWaiters bounds the waiters kept for reuse.
const maxFreeWaiters = 4096

func newPubAcks(nc *nats.Conn) (*pubAcks, error) {
	p := &pubAcks{nc: nc, prefix: nats.NewInbox() + ".", waiting: map[uint64]*pubWait{}}
	sub, err := nc.Subscribe(p.prefix+"*", p.answer)
	if err != nil {
		return nil, fmt.Errorf("bus: publish acknowledgements: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("bus: publish acknowledgements: %w", err)
	}
	p.sub = sub
	// A reply lost with a connection never comes: the writes in flight
	// then fail, as the jetstream package's do, and are sent again by
	// their producers.
	p.status = nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	go p.watch(p.status)
	return p, nil
}

func (p *pubAcks) watch(status chan nats.Status) {
	for s := range status {
		p.failAll(nats.ErrDisconnected)
		if s == nats.CLOSED {
			p.nc.RemoveStatusListener(status)
			return
		}
	}
}

// close ends the status watch (the connection is closing).
func (p *pubAcks) close() {
	p.nc.RemoveStatusListener(p.status)
	p.failAll(nats.ErrConnectionClosed)
}

func (p *pubAcks) failAll(err error) {
	p.mu.Lock()
	ws := p.waiting
	p.waiting = map[uint64]*pubWait{}
	p.mu.Unlock()
	for _, w := range ws {
		w.err = err
		w.done <- struct{}{}
	}
}

// publish sends m (whose Reply it sets) and returns its waiter, which the
// caller hands back with release or abandon.
func (p *pubAcks) publish(m *nats.Msg) (*pubWait, error) {
	p.mu.Lock()
	var w *pubWait
	if n := len(p.free); n > 0 {
		w = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		p.next++
		w = &pubWait{id: p.next, reply: p.prefix + strconv.FormatUint(p.next, 36), done: make(chan struct{}, 1)}
	}
	w.dup, w.seq, w.err = false, 0, nil
	p.waiting[w.id] = w
	p.mu.Unlock()
	m.Reply = w.reply
	if err := p.nc.PublishMsg(m); err != nil {
		p.abandon(w)
		return nil, err
	}
	return w, nil
}

// release takes back a waiter whose answer was received.
func (p *pubAcks) release(w *pubWait) {
	p.mu.Lock()
	if len(p.free) < maxFreeWaiters {
		p.free = append(p.free, w)
	}
	p.mu.Unlock()
}

// abandon takes back a waiter whose answer the caller no longer waits
// for. It is reused only if no answer can still come for it.
func (p *pubAcks) abandon(w *pubWait) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.waiting[w.id]; ok {
		delete(p.waiting, w.id)
		if len(p.free) < maxFreeWaiters {
			p.free = append(p.free, w)
		}
	}
}

// answer is the store's reply to one write.
func (p *pubAcks) answer(m *nats.Msg) {
	if len(m.Subject) <= len(p.prefix) {
		return
	}
	id, err := strconv.ParseUint(m.Subject[len(p.prefix):], 36, 64)
	if err != nil {
		return
	}
	p.mu.Lock()
	w := p.waiting[id]
	delete(p.waiting, id)
	p.mu.Unlock()
	if w == nil {
		return
	}
	w.dup, w.err = readPubAck(m)
	if w.err == nil {
		w.seq = pubAckSeq(m.Data)
	}
	w.done <- struct{}{}
}

var (
	ackSeq       = []byte(`"seq":`)
	ackError     = []byte(`"error"`)
	ackStream    = []byte(`"stream":`)
	ackDuplicate = []byte(`"duplicate":`)
)

// readPubAck reads the store's answer to a write: whether it was a
// duplicate (of a Nats-Msg-Id inside the stream's window), or the error.
// Errors are jetstream.APIError values, as the jetstream package gives.
func readPubAck(m *nats.Msg) (dup bool, err error) {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return false, jetstream.ErrNoStreamResponse
		}
		return false, jetstream.ErrInvalidJSAck
	}
	if bytes.Contains(m.Data, ackError) {
		var r struct {
			Error *jetstream.APIError `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil {
			return false, jetstream.ErrInvalidJSAck
		}
		return false, r.Error
	}
	if !bytes.Contains(m.Data, ackStream) {
		return false, jetstream.ErrInvalidJSAck
	}
	return isDuplicate(m.Data), nil
}

// isDuplicate reports whether a pub ack says "duplicate": true (the server
// writes it with a space).
func isDuplicate(data []byte) bool {
	i := bytes.Index(data, ackDuplicate)
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(data[i+len(ackDuplicate):], " \t")
	return bytes.HasPrefix(rest, []byte("true"))
}

// pubAckSeq reads the stream sequence from a pub ack (0 when it has none).
func pubAckSeq(data []byte) uint64 {
	i := bytes.Index(data, ackSeq)
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(data[i+len(ackSeq):], " \t")
	var n uint64
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
