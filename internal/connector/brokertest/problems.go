package brokertest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// WantProblems decodes a connector config of kind and fails t unless it
// is refused with every problem in want, each a path ("source.url") or
// a path and the start of its message ("source.url: required"). It
// returns the error, for further checks.
func WantProblems(t testing.TB, kind resource.Kind, config string, want ...string) error {
	t.Helper()
	_, err := resource.DecodeConnector(kind, json.RawMessage(config), string(kind))
	if err == nil {
		t.Errorf("%s: no error", config)
		return nil
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: no problem at %s in:\n%v", config, w, err)
		}
	}
	return err
}
