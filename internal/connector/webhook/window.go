package webhook

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CheckTimestamp refuses a signed timestamp further than tol from now, in
// either direction (a clock ahead of ours is as suspect as one behind).
func CheckTimestamp(now, t time.Time, tol time.Duration) error {
	d := now.Sub(t)
	if d < 0 {
		d = -d
	}
	if d > tol {
		return fmt.Errorf("%w: signed at %s, %s away from now (tolerance %s)", ErrStale, t.UTC().Format(time.RFC3339), d.Round(time.Second), tol)
	}
	return nil
}

// ParseUnix reads a Unix time in seconds (an integer). A missing or
// unreadable value is ErrSignature: the timestamp is part of what is
// signed.
func ParseUnix(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrSignature, s)
	}
	return time.Unix(n, 0), nil
}

// ReplayGuard remembers, for a while, which delivery each signed content
// was stored under. Most vendors sign the body but not the header that
// carries the delivery id (GitHub's X-GitHub-Delivery, SNS's subscription
// ARN), so a captured delivery could be sent again under a new id and be
// stored twice: the bus only drops repeats of the same (source, id). The
// guard refuses the same signature arriving under another id. Repeats
// under the same id pass (vendors retry), and the bus stores them once.
//
// It holds at most max entries, each for window; it is in memory, so a
// restart or another replica forgets. Safe for concurrent use.
type ReplayGuard struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	seen  map[string]replayEntry
	order []replayKey // insertion order, for expiry and eviction
}

type replayEntry struct {
	key string
	at  time.Time
}

type replayKey struct {
	proof string
	at    time.Time
}

// Defaults of NewReplayGuard's arguments used by the sources.
const (
	ReplayWindow  = 10 * time.Minute
	ReplayEntries = 100_000
)

// NewReplayGuard returns a guard remembering up to max signatures for
// window each.
func NewReplayGuard(window time.Duration, max int) *ReplayGuard {
	return &ReplayGuard{window: window, max: max, seen: map[string]replayEntry{}}
}

// Check records that proof (a signature, or a digest of what was signed)
// came with key (the event's source and id). The same proof with another
// key inside the window is ErrReplay.
func (g *ReplayGuard) Check(now time.Time, proof, key string) error {
	if g == nil || proof == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	if e, ok := g.seen[proof]; ok {
		if e.key != key {
			return fmt.Errorf("%w (first seen %s ago)", ErrReplay, now.Sub(e.at).Round(time.Second))
		}
		return nil
	}
	for len(g.order) >= g.max && len(g.order) > 0 {
		g.drop()
	}
	g.seen[proof] = replayEntry{key: key, at: now}
	g.order = append(g.order, replayKey{proof: proof, at: now})
	return nil
}

func (g *ReplayGuard) expire(now time.Time) {
	for len(g.order) > 0 && now.Sub(g.order[0].at) > g.window {
		g.drop()
	}
	// Release the array the slice has walked past, now and then.
	if cap(g.order) > 1024 && len(g.order) < cap(g.order)/4 {
		g.order = append([]replayKey(nil), g.order...)
	}
}

func (g *ReplayGuard) drop() {
	k := g.order[0]
	g.order = g.order[1:]
	if e, ok := g.seen[k.proof]; ok && e.at.Equal(k.at) {
		delete(g.seen, k.proof)
	}
}
