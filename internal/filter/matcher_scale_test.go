package filter

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/filter/filtertest"
)

// scaleRules are filtertest.ScalePatterns as rules, followed by extra
// patterns using exists, numeric ranges open on either side and data
// fields nested in objects.
func scaleRules(t testing.TB, n int) []Rule {
	var rules []Rule
	add := func(src string) {
		var p map[string]any
		if err := json.Unmarshal([]byte(src), &p); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		rules = append(rules, Rule{Name: fmt.Sprint("r", len(rules)), Spec: Spec{Pattern: p}})
	}
	for _, p := range filtertest.ScalePatterns(n) {
		add(p)
	}
	for i := range n / 10 {
		switch i % 5 {
		case 0:
			add(fmt.Sprintf(`{"type": [{"prefix": "svc%d."}], "data": {"tenant": [{"exists": false}]}}`, i))
		case 1:
			add(fmt.Sprintf(`{"source": [{"prefix": "urn:app:%d"}], "data": {"level": [{"exists": true}], "amount": [{"numeric": ["<", %d]}]}}`, i, i))
		case 2:
			add(fmt.Sprintf(`{"data": {"customer": {"tier": ["gold", "t%d"]}, "total": [{"numeric": [">=", %d, "<", %d]}]}}`, i, i%60, i%60+20))
		case 3:
			add(fmt.Sprintf(`{"type": [{"anything-but": ["billing.invoice.%d"]}], "data": {"status": [{"prefix": "err"}], "region": [{"exists": false}]}}`, i))
		default:
			add(fmt.Sprintf(`{"data": {"region": [{"anything-but": {"prefix": "eu-"}}], "amount": [{"numeric": [">", %d]}, {"exists": false}]}}`, i))
		}
	}
	return rules
}

// randomScaleEvent draws an event near the patterns of scaleRules(n):
// their types, sources and data fields, each present or not.
func randomScaleEvent(r *rand.Rand, n int) *ce.Event {
	e := ce.New()
	k := r.IntN(n)
	e.SetID(fmt.Sprint(r.IntN(1000)))
	e.SetType([]string{"com.example.order.created", fmt.Sprintf("svc%d.x", k), fmt.Sprintf("billing.invoice.%d", k), "other"}[r.IntN(4)])
	e.SetSource([]string{"/bench/loadgen", fmt.Sprintf("urn:app:%d", k), fmt.Sprintf("urn:app:%d/x", r.IntN(n))}[r.IntN(3)])
	data := map[string]any{}
	maybe := func(key string, v any) {
		if r.IntN(3) > 0 {
			data[key] = v
		}
	}
	maybe("region", []string{"eu-west-1", fmt.Sprintf("eu-%d", k), "us-east-1"}[r.IntN(3)])
	maybe("total", float64(r.IntN(12000))/100)
	maybe("amount", r.IntN(20*n))
	maybe("status", []string{"failed", fmt.Sprintf("error-%d", k), "ok"}[r.IntN(3)])
	maybe("tenant", fmt.Sprintf("t%d", r.IntN(n)))
	maybe("level", r.IntN(6))
	maybe("customer", map[string]any{"tier": []string{"gold", fmt.Sprintf("t%d", k)}[r.IntN(2)]})
	if r.IntN(10) > 0 {
		_ = e.SetData("application/json", data)
	}
	return &e
}

// The index (the matcher's pattern machine) gives the same matches as
// evaluating every rule one by one, on the bench's pattern mix (prefix,
// numeric ranges, anything-but, exists, data fields) and many random
// events near it.
func TestMatcherScaleMixAgreesWithRuleByRule(t *testing.T) {
	rules := scaleRules(t, 500)
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
	rng := rand.New(rand.NewPCG(15, 1000))
	matched, events := 0, 600
	if testing.Short() {
		events = 150
	}
	var got []int
	for range events {
		e := randomScaleEvent(rng, 500)
		in := NewInput(e)
		got = m.Match(in, got[:0])
		in.Release()
		slices.Sort(got)
		var want []int
		one := NewInput(e)
		for i, f := range filters {
			if f.Match(one) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("event %v:\nindex       %v\nrule by rule %v", e, got, want)
		}
		matched += len(got)
	}
	if matched < events {
		t.Fatalf("%d matches in %d events: the events miss the patterns, the test proves little", matched, events)
	}
	// The bench's event matches rule 0 of the bench's patterns only.
	in := NewInput(filtertest.ScaleEvent("x"))
	if got := m.Match(in, nil); !slices.Contains(got, 0) || slices.ContainsFunc(got, func(i int) bool { return i > 0 && i < 500 }) {
		t.Fatalf("the bench's event matched %v, want 0 and none of the other bench patterns", got)
	}
}

// BenchmarkMatcherScale is the matcher's work per event, with the data
// parse the data patterns need, for 1 and 10,000 rules shaped as the
// bench's rules scenario (filtertest.ScalePatterns) and its event.
func BenchmarkMatcherScale(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rules := make([]Rule, n)
			for i, src := range filtertest.ScalePatterns(n) {
				var p map[string]any
				if err := json.Unmarshal([]byte(src), &p); err != nil {
					b.Fatal(err)
				}
				rules[i] = Rule{Name: fmt.Sprint("r", i), Spec: Spec{Pattern: p}}
			}
			m, err := NewMatcher(rules)
			if err != nil {
				b.Fatal(err)
			}
			ev := filtertest.ScaleEvent("x")
			var dst []int
			b.ReportAllocs()
			for b.Loop() {
				in := NewInput(ev)
				dst = m.Match(in, dst[:0])
				in.Release()
			}
			if !slices.Equal(dst, []int{0}) {
				b.Fatalf("matched %v, want [0]", dst)
			}
		})
	}
}
