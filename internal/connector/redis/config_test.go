package redis_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	for _, c := range []struct {
		kind resource.Kind
		cfg  string
		want []string
	}{
		{resource.KindSource, `{"type":"redis","url":"http://x","stream":"s","channel":"c","start":"now","batch":-1,"claim_idle":"1ms","dead_letter":"s","wrap":{"type":"t"}}`,
			[]string{"source.url", "source.channel", "source.start", "source.batch", "source.claim_idle", "source.dead_letter", "source.wrap.source"}},
		{resource.KindSource, `{"type":"redis","pattern":true}`, []string{"source: one of stream and channel", "source.pattern"}},
		{resource.KindTarget, `{"type":"redis","channel":"c","mode":"binary","max_len":-1}`, []string{"target.mode", "target.max_len"}},
		{resource.KindTarget, `{"type":"redis","stream":"a{"}`, []string{"target.stream"}},
	} {
		_, err := resource.DecodeConnector(c.kind, json.RawMessage(c.cfg), string(c.kind))
		if err == nil {
			t.Fatalf("%s: no error", c.cfg)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: no problem at %s in:\n%v", c.cfg, w, err)
			}
		}
	}
}
