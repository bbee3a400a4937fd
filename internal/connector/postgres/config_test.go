package postgres_test

import (
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path; secrets in the URL
// stay out of the messages.
func TestConfigProblems(t *testing.T) {
	err := brokertest.WantProblems(t, resource.KindSource, `{"type":"postgres","url":"postgres://u:s3cret@h:notaport/db","table":"a.b.c","channel":"x","after":"mark","batch":-1,"poll_interval":"1ms","columns":{"id":"-","attributes":"-","data":"a.b"},"wrap":{}}`,
		"source.url", "source.table", "source.channel", "source.done_column", "source.batch", "source.poll_interval", "source.columns.data", "source.columns: id, source and type", "source.wrap.type")
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("password in %v", err)
	}
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"postgres","create_table":true,"max_conns":-1}`,
		"target.url", "target: one of table and channel", "target.create_table", "target.max_conns")
}
