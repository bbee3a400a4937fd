package deploy

import (
	"regexp"
	"strings"
	"testing"
)

// TestOperationsDocListsEveryMetric holds docs/operations.md's metrics
// reference to what the bridge exports: a row per eventbridge_* metric,
// naming each of its labels. A new metric fails here until it is documented.
func TestOperationsDocListsEveryMetric(t *testing.T) {
	doc := string(readFile(t, "../docs/operations.md"))
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(eventbridge_[a-z0-9_]+)` \\|.*$").FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = m[0]
	}
	ms := exportedMetrics(t)
	for _, fam := range bridgeFamilies(ms) {
		row, ok := rows[fam]
		if !ok {
			t.Errorf("docs/operations.md: the metrics reference has no row for %s", fam)
			continue
		}
		// The family's own labels: those of its plain series, or of _sum.
		m, ok := ms[fam]
		if !ok {
			m = ms[fam+"_sum"]
		}
		for _, l := range keys(m.labels) {
			if !strings.Contains(row, "`"+l+"`") {
				t.Errorf("docs/operations.md: the row of %s does not name its label %s", fam, l)
			}
		}
		delete(rows, fam)
	}
	for name := range rows {
		t.Errorf("docs/operations.md documents %s, which the bridge does not export", name)
	}
}
