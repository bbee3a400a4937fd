package pattern

import (
	"encoding/json"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// differential builds a Machine from patterns generated from data and
// checks it against the reference evaluator on generated events. It
// returns a description of the first disagreement.
func differential(data []byte) (string, bool) {
	g := &gen{data: data}
	var srcs []string
	var pats []*Pattern
	for len(pats) < 4 && len(srcs) < 8 {
		src := g.pattern()
		srcs = append(srcs, src)
		if p, err := Compile([]byte(src)); err == nil {
			pats = append(pats, p)
		}
	}
	b := NewBuilder()
	for i, p := range pats {
		b.Add(i, p)
	}
	m := b.Build()
	var dst []int
	for k := 0; k < 6; k++ {
		ev := g.event()
		dst = m.Match(ev, dst[:0])
		got := slices.Sorted(slices.Values(dst))
		var want []int
		for i, p := range pats {
			if p.Match(ev) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			evj, _ := json.Marshal(ev)
			msg := "event " + string(evj) + "\nmachine " + sprint(got) + " reference " + sprint(want) + "\npatterns:"
			for i, p := range pats {
				msg += "\n " + sprint([]int{i}) + " " + p.String()
			}
			return msg, false
		}
	}
	return "", true
}

func sprint(xs []int) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

// FuzzMachine checks that the Machine and the reference evaluator agree on
// patterns and events generated from the fuzz input.
func FuzzMachine(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("\x07\x07\x01\x00\x01\x01\x00\x03\x02\x01\x05\x00\x01\x01\x00\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if msg, ok := differential(data); !ok {
			t.Fatal(msg)
		}
	})
}

// FuzzCompile feeds arbitrary bytes to Compile: it must not panic, and a
// pattern it accepts must match the same events through the Machine.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`{}`, `{"a": [1]}`, `{"a": [{"numeric": [">", 0, "<", 5]}]}`,
		`{"$or": [{"a": ["x"]}, {"b": [{"prefix": "y"}]}]}`, `{"a": [{"wildcard": "x*\\*"}]}`,
		`{"a": [{"anything-but": {"suffix": ["a", "b"]}}]}`, `{"a": [{"cidr": "10.0.0.0/8"}]}`, `[`, `{"a": [1e999]}`} {
		f.Add([]byte(s))
	}
	events := []map[string]any{{}, {"a": "x"}, {"a": 1.0, "b": []any{map[string]any{"c": "y"}}},
		{"a": []any{"10.1.2.3", 4.5, nil, true}}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Compile(raw)
		if err != nil {
			if es, ok := err.(Errors); !ok || len(es) == 0 {
				t.Fatalf("Compile error %T %v is not a non-empty Errors", err, err)
			}
			return
		}
		b := NewBuilder()
		b.Add(1, p)
		m := b.Build()
		for _, ev := range events {
			want := p.Match(ev)
			got := len(m.Match(ev, nil)) == 1
			if got != want {
				t.Fatalf("pattern %s event %v: machine %v reference %v", raw, ev, got, want)
			}
		}
	})
}

// TestDifferentialProperty runs the same check as FuzzMachine over inputs
// drawn by rapid, which shrinks a failure to a small input.
func TestDifferentialProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOfN(rapid.Byte(), 8, 200).Draw(t, "data")
		if msg, ok := differential(data); !ok {
			t.Fatal(msg)
		}
	})
}

// TestMicroRoundTrip: every number with at most six decimals in the numeric
// range reads back exactly from its float64.
func TestMicroRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := rapid.Int64Range(-microLimit, microLimit).Draw(t, "micros")
		f := float64(m) / 1e6
		got, ok := floatMicro(f)
		if !ok || got != m {
			t.Fatalf("floatMicro(%v) = %d, %v; want %d", f, got, ok, m)
		}
	})
}
