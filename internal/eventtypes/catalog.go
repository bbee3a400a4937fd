// Package eventtypes discovers event types: every (source, type) pair seen,
// how often and when, and a JSON Schema inferred from the data, as
// Amazon EventBridge's schema discovery does. It is kept in the KV bucket
// "eventtypes" so that it survives restarts.
package eventtypes

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Bucket keeps the catalog (its settings are the bus's:
// bus.EventTypesBucket).
var Bucket = bus.EventTypesBucket.Name

// MaxTypes bounds the catalog; pairs beyond it are counted in Overflow.
const MaxTypes = 10000

// EventType is one (source, type) pair.
type EventType struct {
	Source    string         `json:"source"`
	Type      string         `json:"type"`
	Count     int64          `json:"count"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Schema    map[string]any `json:"schema,omitempty"`
	// Samples is how many events the schema was inferred from.
	Samples int `json:"samples"`
	// DataContentType is the last content type seen.
	DataContentType string `json:"datacontenttype,omitempty"`
}

// Catalog collects event types. Safe for concurrent use.
type Catalog struct {
	mu       sync.Mutex
	types    map[string]*EventType
	dirty    map[string]bool
	overflow int64
	kv       *bus.KV
	bus      *bus.Bus // logs an outage once (Report)
	log      *slog.Logger
	stop     chan struct{}
	done     chan struct{}
}

// Open loads the catalog from the bus and starts saving it every interval.
func Open(ctx context.Context, b *bus.Bus, log *slog.Logger) (*Catalog, error) {
	kv, err := b.KV(ctx, bus.EventTypesBucket)
	if err != nil {
		return nil, err
	}
	c := &Catalog{types: map[string]*EventType{}, dirty: map[string]bool{}, kv: kv, bus: b, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	entries, err := kv.List(ctx, ">")
	if err == nil {
		for _, e := range entries {
			var et EventType
			if json.Unmarshal(e.Value, &et) == nil {
				c.types[et.Source+"\x00"+et.Type] = &et
			}
		}
	}
	go c.saveLoop(5 * time.Second)
	return c, nil
}

// Observe counts an event and, for the first events of a type and then one
// in a hundred, refines the type's schema from its data.
func (c *Catalog) Observe(e *ce.Event) {
	key := e.Source() + "\x00" + e.Type()
	now := time.Now().UTC()
	c.mu.Lock()
	et, ok := c.types[key]
	if !ok {
		if len(c.types) >= MaxTypes {
			c.overflow++
			c.mu.Unlock()
			return
		}
		et = &EventType{Source: e.Source(), Type: e.Type(), FirstSeen: now}
		c.types[key] = et
	}
	et.Count++
	et.LastSeen = now
	et.DataContentType = e.DataContentType()
	sample := et.Samples < 10 || et.Count%100 == 0
	c.dirty[key] = true
	c.mu.Unlock()
	if !sample || len(e.Data()) == 0 || !ebevent.IsJSONContentType(e.DataContentType()) {
		return
	}
	var v any
	if err := json.Unmarshal(e.Data(), &v); err != nil {
		return
	}
	s := Infer(v)
	c.mu.Lock()
	if et.Schema == nil {
		et.Schema = s
	} else {
		et.Schema = Merge(et.Schema, s)
	}
	et.Samples++
	c.mu.Unlock()
}

// List returns every event type, sorted by source and type, and how many
// events did not fit in the catalog.
func (c *Catalog) List() ([]EventType, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]EventType, 0, len(c.types))
	for _, et := range c.types {
		cp := *et
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Type < out[j].Type
	})
	return out, c.overflow
}

func (c *Catalog) saveLoop(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			c.save()
			return
		case <-t.C:
			c.save()
		}
	}
}

func (c *Catalog) save() {
	c.mu.Lock()
	var batch []EventType
	for key := range c.dirty {
		if et, ok := c.types[key]; ok {
			batch = append(batch, *et)
		}
	}
	c.dirty = map[string]bool{}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, et := range batch {
		b, err := json.Marshal(et)
		if err != nil {
			continue
		}
		if _, err := c.kv.Put(ctx, keyOf(et.Source, et.Type), b); err != nil {
			if !c.bus.Report(err) { // an outage of the bus is logged once, by the bus
				c.log.Warn("cannot save the event-type catalog", "err", err)
			}
			return
		}
	}
}

// keyOf makes a KV key from a pair (KV keys allow a small alphabet).
func keyOf(source, typ string) string {
	return "t." + ebevent.DedupKey(source, typ)
}

// Close saves and stops.
func (c *Catalog) Close() {
	close(c.stop)
	<-c.done
}
