package postgres_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path; secrets in the URL
// stay out of the messages.
func TestConfigProblems(t *testing.T) {
	for _, c := range []struct {
		kind resource.Kind
		cfg  string
		want []string
	}{
		{resource.KindSource, `{"type":"postgres","url":"postgres://u:s3cret@h:notaport/db","table":"a.b.c","channel":"x","after":"mark","batch":-1,"poll_interval":"1ms","columns":{"id":"-","attributes":"-","data":"a.b"},"wrap":{}}`,
			[]string{"source.url", "source.table", "source.channel", "source.done_column", "source.batch", "source.poll_interval", "source.columns.data", "source.columns: id, source and type", "source.wrap.type"}},
		{resource.KindTarget, `{"type":"postgres","create_table":true,"max_conns":-1}`, []string{"target.url", "target: one of table and channel", "target.create_table", "target.max_conns"}},
	} {
		_, err := resource.DecodeConnector(c.kind, json.RawMessage(c.cfg), string(c.kind))
		if err == nil {
			t.Fatalf("%s: no error", c.cfg)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("password in %v", err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: no problem at %s in:\n%v", c.cfg, w, err)
			}
		}
	}
}
