package redis_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"redis","url":"http://x","stream":"s","channel":"c","start":"now","batch":-1,"claim_idle":"1ms","dead_letter":"s","wrap":{"type":"t"}}`,
		"source.url", "source.channel", "source.start", "source.batch", "source.claim_idle", "source.dead_letter", "source.wrap.source")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"redis","pattern":true}`,
		"source: one of stream and channel", "source.pattern")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"redis","channel":"c","mode":"binary","max_len":-1}`,
		"target.mode", "target.max_len")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"redis","stream":"a{"}`,
		"target.stream")
}
