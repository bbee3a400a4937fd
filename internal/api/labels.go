package api

import (
	"fmt"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// labelSelectors are label=key=value (equal) and label=key (present)
// query parameters, ANDed.
type labelSelectors []labelSelector

type labelSelector struct {
	key, value string
	hasValue   bool
}

func parseLabelSelectors(params []string) (labelSelectors, *problem.Problem) {
	var out labelSelectors
	for _, p := range params {
		k, v, has := strings.Cut(p, "=")
		if k == "" {
			return nil, problem.New(problem.InvalidRequest, fmt.Sprintf("label=%q: want label=key or label=key=value", p)).
				WithErrors(problem.FieldError{Field: "label", Reason: "want key or key=value"})
		}
		out = append(out, labelSelector{key: k, value: v, hasValue: has})
	}
	return out, nil
}

func (ls labelSelectors) match(labels map[string]string) bool {
	for _, s := range ls {
		v, ok := labels[s.key]
		if !ok || (s.hasValue && v != s.value) {
			return false
		}
	}
	return true
}
