package kafka

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// scenario is one case of the CloudEvents conformance feature file.
type scenario struct {
	name             string
	payload, data    string
	headers, attribs [][2]string
}

// parseFeature reads the Gherkin of the conformance repository: payload
// and data doc strings, header and attribute tables, and the Examples of a
// Scenario Outline (each row one scenario).
func parseFeature(t *testing.T, text string) []scenario {
	t.Helper()
	var out []scenario
	var cur *scenario
	var outline *scenario
	var table *[][2]string
	var doc *string
	inDoc := false
	var exampleKeys []string
	flush := func() {
		if cur != nil && outline == nil {
			out = append(out, *cur)
		}
		cur, outline, table, exampleKeys = nil, nil, nil, nil
	}
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == `"""`:
			inDoc = !inDoc
			continue
		case inDoc:
			*doc += l + "\n"
			continue
		case strings.HasPrefix(l, "Scenario Outline:"):
			flush()
			cur = &scenario{name: strings.TrimSpace(strings.TrimPrefix(l, "Scenario Outline:"))}
			outline = cur
		case strings.HasPrefix(l, "Scenario:"):
			flush()
			cur = &scenario{name: strings.TrimSpace(strings.TrimPrefix(l, "Scenario:"))}
		case cur == nil:
		case strings.HasSuffix(l, "with payload:"):
			doc = &cur.payload
		case strings.HasSuffix(l, "following JSON:"):
			doc = &cur.data
		case strings.HasSuffix(l, "Kafka headers:"):
			table = &cur.headers
		case strings.HasSuffix(l, "attributes are:"):
			table = &cur.attribs
		case strings.HasPrefix(l, "Examples:"):
			table = nil
			exampleKeys = []string{}
		case strings.HasPrefix(l, "|"):
			cells := strings.Split(strings.Trim(l, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			switch {
			case exampleKeys != nil && len(exampleKeys) == 0:
				exampleKeys = cells
			case exampleKeys != nil:
				s := expand(*outline, exampleKeys, cells)
				out = append(out, s)
			case table != nil && cells[0] != "key":
				*table = append(*table, [2]string{cells[0], cells[1]})
			}
		}
	}
	flush()
	return out
}

// expand fills an outline's <placeholders> from one Examples row.
func expand(s scenario, keys, vals []string) scenario {
	r := func(x string) string {
		for i, k := range keys {
			x = strings.ReplaceAll(x, "<"+k+">", vals[i])
		}
		return x
	}
	out := scenario{name: r(s.name) + " " + strings.Join(vals, ","), payload: r(s.payload), data: r(s.data)}
	for _, h := range s.headers {
		out.headers = append(out.headers, [2]string{r(h[0]), r(h[1])})
	}
	out.attribs = s.attribs
	return out
}

// TestConformanceFeature runs the Kafka scenarios of the CloudEvents
// conformance repository: exact headers and payload in, exact attributes
// and data out.
func TestConformanceFeature(t *testing.T) {
	scenarios := parseFeature(t, string(mustRead(t, "testdata/conformance/kafka-protocol-binding.feature")))
	if len(scenarios) != 3 {
		t.Fatalf("parsed %d scenarios, want 3", len(scenarios))
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			r := &kgo.Record{Value: []byte(strings.TrimSpace(s.payload))}
			for _, h := range s.headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
			}
			e, err := decode(r)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range s.attribs {
				if got, _ := ebevent.Attr(e, a[0]); got != a[1] {
					t.Errorf("%s = %q, want %q", a[0], got, a[1])
				}
			}
			var got, want any
			if err := json.Unmarshal(e.Data(), &got); err != nil {
				t.Fatalf("data %q: %v", e.Data(), err)
			}
			_ = json.Unmarshal([]byte(s.data), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("data %v, want %v", got, want)
			}
		})
	}
}
