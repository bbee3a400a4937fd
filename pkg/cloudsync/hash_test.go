package cloudsync_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// OCM hashes a status through the object's unstructured map, whose JSON
// has sorted keys; a struct whose fields are not in key order must hash
// the same as that, or an OCM peer sees every status as changed.
func TestHashStatusSortsKeysAsOCM(t *testing.T) {
	type condition struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}
	type status struct {
		Phase           string      `json:"phase"`
		ObservedVersion int64       `json:"observedVersion"`
		Ratio           float64     `json:"ratio"`
		Conditions      []condition `json:"conditions"`
		Note            string      `json:"note,omitempty"`
	}
	st := status{Phase: "Applied", ObservedVersion: 3, Ratio: 0.5, Conditions: []condition{{Type: "Ready", Status: "True", Reason: "<ok>"}}}
	// what OCM's statushash.StatusHash hashes for this status
	const ocmJSON = `{"conditions":[{"reason":"\u003cok\u003e","status":"True","type":"Ready"}],"observedVersion":3,"phase":"Applied","ratio":0.5}`
	sum := sha256.Sum256([]byte(ocmJSON))
	want := hex.EncodeToString(sum[:])
	got, err := cloudsync.HashStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("HashStatus(struct) = %s, want %s (sha256 of %s)", got, want, ocmJSON)
	}
	// the same status as JSON in another key order hashes the same
	raw, err := cloudsync.HashStatus(json.RawMessage(`{"phase":"Applied","ratio":0.5,"observedVersion":3,"conditions":[{"type":"Ready","status":"True","reason":"<ok>"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if raw != want {
		t.Fatalf("HashStatus(raw JSON) = %s, want %s", raw, want)
	}
}
