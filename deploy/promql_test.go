package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// A small PromQL reader: enough to find, in the dashboard's and the alerts'
// expressions, every metric name, the labels its matchers use, the labels
// of by/without/on/ignoring clauses, and the counter functions applied to
// a metric. It does not evaluate anything.

type token struct {
	kind string // ident, string, number, range, var, punct
	text string
}

func lexPromQL(s string) ([]token, error) {
	var out []token
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{"string", s[i+1 : j]})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated range at %d", i)
			}
			out = append(out, token{"range", s[i : i+j+1]})
			i += j + 1
		case c == '$':
			j := i + 1
			for j < len(s) && isIdent(s[j], false) {
				j++
			}
			out = append(out, token{"var", s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (isIdent(s[j], false) || s[j] == '.') {
				j++
			}
			out = append(out, token{"number", s[i:j]})
			i = j
		case isIdent(c, true):
			j := i
			for j < len(s) && isIdent(s[j], false) {
				j++
			}
			out = append(out, token{"ident", s[i:j]})
			i = j
		default:
			out = append(out, token{"punct", string(c)})
			i++
		}
	}
	return out, nil
}

// Words that are not metric names.
var (
	promGrouping  = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	promOperators = []string{"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN"}
	promAggrs     = []string{"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
	counterFuncs  = []string{"rate", "irate", "increase", "resets"}
	gaugeFuncs    = []string{"delta", "idelta", "deriv", "predict_linear"}
)

// selector is a metric name with the label names its matchers use.
type selector struct {
	metric string
	labels []string
	fn     string // the function applied directly to it: rate(metric...)
}

// promExpr is what an expression refers to.
type promExpr struct {
	selectors []selector
	grouping  []string
}

func parsePromQL(expr string) (promExpr, error) {
	toks, err := lexPromQL(expr)
	if err != nil {
		return promExpr{}, err
	}
	var pe promExpr
	next := func(i int) token {
		if i+1 < len(toks) {
			return toks[i+1]
		}
		return token{}
	}
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		if tk.kind != "ident" {
			continue
		}
		switch {
		case slices.Contains(promGrouping, tk.text):
			if next(i).text != "(" {
				return pe, fmt.Errorf("%s without a label list", tk.text)
			}
			for i += 2; i < len(toks) && toks[i].text != ")"; i++ {
				if toks[i].kind == "ident" {
					pe.grouping = append(pe.grouping, toks[i].text)
				}
			}
			continue
		case slices.Contains(promOperators, tk.text), slices.Contains(promAggrs, tk.text), next(i).text == "(":
			continue
		}
		sel := selector{metric: tk.text}
		if i >= 2 && toks[i-1].text == "(" && toks[i-2].kind == "ident" {
			sel.fn = toks[i-2].text
		}
		if next(i).text == "{" {
			for i += 2; i < len(toks) && toks[i].text != "}"; i++ {
				if toks[i].kind == "ident" {
					sel.labels = append(sel.labels, toks[i].text)
				}
			}
			if i >= len(toks) {
				return pe, fmt.Errorf("unterminated matchers of %s", sel.metric)
			}
		}
		pe.selectors = append(pe.selectors, sel)
	}
	return pe, nil
}

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance"}

// checkPromQL checks an expression against the metrics the bridge exports
// (and extra ones from elsewhere). It returns the labels the result can
// carry: the grouping labels if the expression aggregates, otherwise every
// label of its metrics.
func checkPromQL(expr string, ms map[string]metric, p *problems) []string {
	pe, err := parsePromQL(expr)
	if err != nil {
		p.add("%q: %v", expr, err)
		return nil
	}
	if len(pe.selectors) == 0 {
		p.add("%q: no metric", expr)
	}
	avail := map[string]bool{}
	for _, l := range targetLabels {
		avail[l] = true
	}
	for _, sel := range pe.selectors {
		m, ok := ms[sel.metric]
		if !ok {
			p.add("%q: the bridge exports no metric %s", expr, sel.metric)
			continue
		}
		for l := range m.labels {
			avail[l] = true
		}
		for _, l := range sel.labels {
			if !m.labels[l] && !slices.Contains(targetLabels, l) && l != "__name__" {
				p.add("%q: %s has no label %s (it has %s)", expr, sel.metric, l, keys(m.labels))
			}
		}
		switch {
		case slices.Contains(counterFuncs, sel.fn) && !m.counter:
			p.add("%q: %s() of %s, which is not a counter", expr, sel.fn, sel.metric)
		case slices.Contains(gaugeFuncs, sel.fn) && m.counter:
			p.add("%q: %s() of %s, which is a counter: use rate or increase", expr, sel.fn, sel.metric)
		}
	}
	for _, l := range pe.grouping {
		if !avail[l] {
			p.add("%q: groups by %s, which none of its metrics has", expr, l)
		}
	}
	if len(pe.grouping) > 0 {
		return pe.grouping
	}
	return keys(avail)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestParsePromQL(t *testing.T) {
	pe, err := parsePromQL(`histogram_quantile(0.99, sum by (rule, le) (rate(a_bucket{job=~"$job", x="1"}[$__rate_interval]))) / on (rule) group_left() max(b) > 0.5 and c offset 5m`)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(pe)
	want := `{[{a_bucket [job x] rate} {b [] max} {c [] }] [rule le rule]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
