package state

import (
	"context"
	"testing"
	"time"
)

// BenchmarkBuild is the feed's work per event before the write: read the
// source and subject (or the attributes a state_key needs) and build the
// bucket value.
func BenchmarkBuild(b *testing.B) {
	e := event("0b2c4f1e-7c5d-4e55-9a3b-1f7e0d9c2a11", "/cluster/node-17/ptp", "sync-state", map[string]any{
		"values": []map[string]any{{"resource": "/cluster/node-17/ptp/ens1f0", "value_type": "enumeration", "value": "LOCKED"}},
	})
	e.SetExtension("clustername", "c1")
	e.SetExtension("resourceid", "ens1f0")
	data, err := e.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	s := &Store{cfg: Config{}}
	s.cfg.Defaults()
	for _, tc := range []struct {
		name string
		keys SourceKeys
	}{
		{"default-key", nil},
		{"state_key", func(context.Context, string) (string, error) { return "{clustername}/{resourceid}", nil }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := &feeder{s: s, keys: tc.keys, tmpls: map[string]cachedTmpl{}}
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := range b.N {
				r := rec{seq: uint64(i + 1), res: "web", raw: data, ts: now}
				if _, err := f.build(ctx, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
