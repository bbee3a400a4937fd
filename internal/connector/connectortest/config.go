package connectortest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// WantSourceConfigs decodes each source config (JSON) as the bridge does,
// its problems under the prefix "spec", and fails the test unless the
// error holds the config's text ("": the config is valid).
func WantSourceConfigs(t testing.TB, cases map[string]string) {
	t.Helper()
	for cfg, want := range cases {
		_, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfg), "spec")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", cfg, got, want)
		}
	}
}
