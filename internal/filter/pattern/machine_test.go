package pattern

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestMachineAgreesWithReference builds one Machine from every valid case
// pattern and checks, for every event of every case, that it reports exactly
// the patterns the reference evaluator matches.
func TestMachineAgreesWithReference(t *testing.T) {
	var pats []*Pattern
	var names []string
	var events []map[string]any
	for _, c := range loadCases(t) {
		if len(c.Errors) > 0 {
			continue
		}
		pats = append(pats, MustCompile(c.Pattern))
		names = append(names, c.id())
		events = append(events, c.match...)
		events = append(events, c.nomatch...)
	}
	b := NewBuilder()
	for i, p := range pats {
		b.Add(i, p)
	}
	m := b.Build()
	t.Logf("%d patterns, %d events, %+v", len(pats), len(events), m.Stats())
	var dst []int
	checked := 0
	for _, ev := range events {
		dst = m.Match(ev, dst[:0])
		got := slices.Sorted(slices.Values(dst))
		var want []int
		for i, p := range pats {
			if p.Match(ev) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("event %v:\n machine   %v\n reference %v\n%s", ev, got, want, diffNames(got, want, names))
		}
		checked += len(pats)
	}
	t.Logf("%d pattern/event pairs agree", checked)
}

func diffNames(got, want []int, names []string) string {
	s := ""
	for _, i := range got {
		if !slices.Contains(want, i) {
			s += fmt.Sprintf("  only machine: %s\n", names[i])
		}
	}
	for _, i := range want {
		if !slices.Contains(got, i) {
			s += fmt.Sprintf("  only reference: %s\n", names[i])
		}
	}
	return s
}

func TestMachineSameIDTwiceIsOr(t *testing.T) {
	b := NewBuilder()
	b.Add(7, MustCompile(`{"a": ["x"]}`))
	b.Add(7, MustCompile(`{"b": ["y"]}`))
	b.Add(8, MustCompile(`{"a": ["x"], "b": ["y"]}`))
	m := b.Build()
	for _, tc := range []struct {
		ev   map[string]any
		want []int
	}{
		{map[string]any{"a": "x"}, []int{7}},
		{map[string]any{"b": "y"}, []int{7}},
		{map[string]any{"a": "x", "b": "y"}, []int{7, 8}},
		{map[string]any{"a": "z"}, nil},
	} {
		got := slices.Sorted(slices.Values(m.Match(tc.ev, nil)))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%v) = %v; want %v", tc.ev, got, tc.want)
		}
	}
}

func TestMachineEmpty(t *testing.T) {
	m := NewBuilder().Build()
	if got := m.Match(map[string]any{"a": 1.0}, nil); len(got) != 0 {
		t.Fatalf("empty machine matched %v", got)
	}
	b := NewBuilder()
	b.Add(1, MustCompile(`{}`))
	if got := b.Build().Match(nil, nil); !slices.Equal(got, []int{1}) {
		t.Fatalf("match-all pattern: got %v", got)
	}
}

// TestMachineConcurrent runs Match from many goroutines (run with -race).
func TestMachineConcurrent(t *testing.T) {
	rules := benchRules(500)
	b := NewBuilder()
	for i, r := range rules {
		b.Add(i, MustCompile(r))
	}
	m := b.Build()
	events := benchEvents(50)
	want := make([][]int, len(events))
	for i, ev := range events {
		want[i] = slices.Sorted(slices.Values(m.Match(ev, nil)))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []int
			for round := 0; round < 20; round++ {
				for i, ev := range events {
					dst = m.Match(ev, dst[:0])
					if got := slices.Sorted(slices.Values(dst)); !slices.Equal(got, want[i]) {
						t.Errorf("concurrent Match differs: %v vs %v", got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestMachineLargeArrays: arrays of thousands of objects where two fields
// match in different elements must not take quadratic time.
func TestMachineLargeArrays(t *testing.T) {
	const n = 20000
	items := make([]any, n)
	for i := range items {
		if i%2 == 0 {
			items[i] = map[string]any{"sku": "B", "qty": 1.0, "gift": true}
		} else {
			items[i] = map[string]any{"sku": "A", "qty": 2.0}
		}
	}
	ev := map[string]any{"items": items}
	b := NewBuilder()
	b.Add(1, MustCompile(`{"items": {"sku": ["B"], "qty": [2]}}`))                 // never in one element
	b.Add(2, MustCompile(`{"items": {"sku": ["A"], "qty": [2]}}`))                 // odd elements
	b.Add(3, MustCompile(`{"items": {"qty": [1], "gift": [{"exists": false}]}}`))  // gift sorts first: sees every element
	b.Add(4, MustCompile(`{"items": {"qty": [2], "sku": [{"exists": false}]}}`))   // every qty-2 element has a sku
	b.Add(5, MustCompile(`{"items": {"sku": ["A"], "zzz": [{"exists": false}]}}`)) // zzz sorts last
	m := b.Build()
	start := time.Now()
	got := slices.Sorted(slices.Values(m.Match(ev, nil)))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Match took %v", d)
	}
	if want := []int{2, 5}; !slices.Equal(got, want) {
		t.Errorf("Match = %v; want %v", got, want)
	}
}
