package api

import (
	"net/http"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// pendingSources reads the pending_sources parameter of PUT
// /v1/rules/{name}: sources that the same apply creates right after the
// rule (apply writes targets, then rules, then sources, so that a source
// with a backlog finds its rules in place). The rule may name them before
// they exist; any other name must exist, as always.
func pendingSources(r *http.Request, kind resource.Kind) []string {
	if kind != resource.KindRule {
		return nil
	}
	var out []string
	for _, v := range r.URL.Query()["pending_sources"] {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}
