package filter

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// mixedRules are realistic rules of every kind: each rule is about its
// own event type or source (as subscriptions are), some with data
// conditions, a few prefix, numeric and anything-but conditions, dialect
// filters (indexable and not), CESQL, and match-all.
func mixedRules(n int) []Rule {
	rules := make([]Rule, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("r%d", i)
		typ := fmt.Sprintf("com.example.t%d", i)
		var s Spec
		switch i % 8 {
		case 0:
			s.Pattern = map[string]any{"type": []any{typ}}
		case 1:
			s.Pattern = map[string]any{"source": []any{fmt.Sprintf("/src/%d", i)}, "data": map[string]any{"total": []any{map[string]any{"numeric": []any{">", i % 100}}}}}
		case 2:
			s.Pattern = map[string]any{"type": []any{map[string]any{"prefix": typ + ".v"}}, "data": map[string]any{"state": []any{map[string]any{"anything-but": "closed"}}}}
		case 3:
			s.Filters = []any{map[string]any{"exact": map[string]any{"type": typ}}}
		case 4:
			s.Filters = []any{map[string]any{"all": []any{
				map[string]any{"prefix": map[string]any{"source": fmt.Sprintf("/src/%d", i)}},
				map[string]any{"not": map[string]any{"exact": map[string]any{"subject": "skip"}}},
			}}}
		case 5:
			s.Filters = []any{map[string]any{"any": []any{
				map[string]any{"exact": map[string]any{"type": typ}},
				map[string]any{"suffix": map[string]any{"type": fmt.Sprintf(".t%d.alt", i)}},
			}}}
		case 6:
			s.SQL = fmt.Sprintf("type = '%s' AND source LIKE '/src/%%'", typ)
		case 7:
			if i >= 64 { // a few rules (the first eight of this kind) have no filter at all
				s.Filters = []any{map[string]any{"suffix": map[string]any{"subject": fmt.Sprintf("/%d", i)}}}
			}
		}
		rules = append(rules, Rule{Name: name, Spec: s})
	}
	return rules
}

// randomEvent draws an event about one of n rules' types and sources.
func randomEvent(r *rand.Rand, n int) *ce.Event {
	e := ce.New()
	k := r.IntN(n)
	e.SetID(fmt.Sprint(r.IntN(1000)))
	e.SetType(fmt.Sprintf("com.example.t%d%s", k, []string{"", ".v1", ".alt"}[r.IntN(3)]))
	e.SetSource(fmt.Sprintf("/src/%d", r.IntN(n)))
	if r.IntN(2) == 0 {
		e.SetSubject([]string{"skip", "/" + fmt.Sprint(k), "x"}[r.IntN(3)])
	}
	_ = e.SetData("application/json", map[string]any{"total": r.IntN(120), "state": []string{"open", "closed"}[r.IntN(2)]})
	return &e
}

// The matcher (machine plus residual filters) agrees with evaluating every
// rule's filter one by one.
func TestMatcherAgreesWithFilters(t *testing.T) {
	rules := mixedRules(400)
	m, err := NewMatcher(rules)
	if err != nil {
		t.Fatal(err)
	}
	filters := make([]Filter, len(rules))
	for i, r := range rules {
		if filters[i], err = Compile(r.Spec); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	matched := 0
	for n := 0; n < 2000; n++ {
		e := randomEvent(rng, len(rules))
		got := m.Match(NewInput(e), nil)
		slices.Sort(got)
		var want []int
		for i, f := range filters {
			if f.Match(NewInput(e)) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("event %v:\nmatcher %v\nfilters %v", e, got, want)
		}
		matched += len(got)
	}
	if matched == 0 {
		t.Fatal("nothing ever matched: the test proves nothing")
	}
}

// BenchmarkMatch measures one event against 1 to 10,000 rules of every
// kind, through the matcher the router uses.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rules := mixedRules(n)
			for i := range rules { // realistic mix without per-rule CESQL scans
				if rules[i].Spec.SQL != "" {
					rules[i].Spec = Spec{Pattern: map[string]any{"type": []any{fmt.Sprintf("com.example.t%d", i%97)}, "source": []any{map[string]any{"prefix": "/src/"}}}}
				}
			}
			m, err := NewMatcher(rules)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			events := make([]*ce.Event, 256)
			for i := range events {
				events[i] = randomEvent(rng, n)
			}
			var dst []int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst = m.Match(NewInput(events[i%len(events)]), dst[:0])
			}
		})
	}
}
