package pattern

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
)

var benchDomains = []string{"orders", "billing", "shipping", "users", "inventory", "payments", "catalog"}
var benchVerbs = []string{"created", "updated", "deleted", "shipped"}

func benchType(i int) string {
	return fmt.Sprintf("com.example.%s.v%d.%s", benchDomains[i%len(benchDomains)], i, benchVerbs[i%len(benchVerbs)])
}

func benchSource(i int) string {
	return fmt.Sprintf("/services/%s/%d", benchDomains[i%len(benchDomains)], i%97)
}

// benchRules returns n realistic rules: every rule names its own type; most
// add a source or a condition on data; a few use prefix, suffix, numeric,
// anything-but, $or or a field inside an array of objects.
func benchRules(n int) []string {
	rules := make([]string, n)
	for i := range rules {
		t, src := benchType(i), benchSource(i)
		switch i % 20 {
		case 10, 11, 12:
			rules[i] = fmt.Sprintf(`{"type":[%q],"data":{"region":["eu-west-1","us-east-1"]}}`, t)
		case 13:
			rules[i] = fmt.Sprintf(`{"type":[{"prefix":%q}],"source":[%q]}`, t[:len(t)-3], src)
		case 14:
			rules[i] = fmt.Sprintf(`{"type":[%q],"data":{"total":[{"numeric":[">",%d,"<=",%d]}]}}`, t, i%500, i%500+100)
		case 15:
			rules[i] = fmt.Sprintf(`{"type":[%q],"source":[%q],"data":{"status":[{"anything-but":["cancelled","failed"]}]}}`, t, src)
		case 16:
			rules[i] = fmt.Sprintf(`{"type":[%q],"subject":[{"suffix":".json"}]}`, t)
		case 17:
			rules[i] = fmt.Sprintf(`{"type":[%q],"data":{"customer":{"tier":["gold"]}},`+
				`"$or":[{"data":{"priority":["high"]}},{"data":{"total":[{"numeric":[">=",1000]}]}}]}`, t)
		case 18:
			rules[i] = fmt.Sprintf(`{"type":[%q],"data":{"items":{"sku":[{"prefix":"SKU-%d"}],"qty":[{"numeric":[">",0]}]}}}`, t, i%50)
		default:
			rules[i] = fmt.Sprintf(`{"type":[%q],"source":[%q]}`, t, src)
		}
	}
	return rules
}

// benchEvent is the JSON form of a CloudEvent whose type and source are
// those of rule i.
func benchEvent(i int) map[string]any {
	raw := fmt.Sprintf(`{
		"specversion": "1.0", "id": "b7d3c1e2-%04d", "source": %q, "type": %q,
		"time": "2024-05-01T12:00:00Z", "subject": "orders/%d.json", "datacontenttype": "application/json",
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"data": {
			"region": "eu-west-1", "total": 420.5, "status": "paid", "priority": "high",
			"customer": {"id": "c-1", "tier": "gold", "email": "a@example.com"},
			"items": [{"sku": "SKU-1-a", "qty": 2}, {"sku": "SKU-9-b", "qty": 1}]
		}
	}`, i, benchSource(i), benchType(i), i)
	var ev map[string]any
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		panic(err)
	}
	return ev
}

func benchEvents(n int) []map[string]any {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = benchEvent(i * 7)
	}
	return evs
}

func buildBench(tb testing.TB, rules []string) *Machine {
	b := NewBuilder()
	for i, r := range rules {
		p, err := Compile([]byte(r))
		if err != nil {
			tb.Fatalf("rule %d %s: %v", i, r, err)
		}
		b.Add(i, p)
	}
	return b.Build()
}

// BenchmarkMatch matches one CloudEvent against 1 to 10,000 rules. The cost
// per event must stay within a small factor as rules grow; B/rule is the
// heap the built Machine holds per rule.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rules := benchRules(n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m := buildBench(b, rules)
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(rules)
			// Compiled patterns and the Machine, not the rule sources.
			perRule := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
			ev := benchEvent(0)
			dst := m.Match(ev, nil)
			if len(dst) == 0 {
				b.Fatal("the benchmark event matches nothing")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				dst = m.Match(ev, dst[:0])
			}
			b.StopTimer()
			b.ReportMetric(perRule, "B/rule")
			runtime.KeepAlive(m)
		})
	}
}
