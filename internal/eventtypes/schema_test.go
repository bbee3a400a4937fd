package eventtypes

import (
	"encoding/json"
	"testing"
)

func TestInferAndMerge(t *testing.T) {
	var a, b any
	_ = json.Unmarshal([]byte(`{"id": 1, "name": "x", "at": "2026-01-02T03:04:05Z", "tags": ["a"], "price": 1.5}`), &a)
	_ = json.Unmarshal([]byte(`{"id": 2, "at": "2026-01-02T03:04:05Z", "tags": [1], "price": 2, "extra": null}`), &b)
	s := Merge(Infer(a), Infer(b))
	got, _ := json.Marshal(s)
	want := `{"properties":{"at":{"format":"date-time","type":"string"},"extra":{"type":"null"},"id":{"type":"integer"},"name":{"type":"string"},"price":{"type":"number"},"tags":{"items":{"type":["integer","string"]},"type":"array"}},"required":["at","id","price","tags"],"type":"object"}`
	if string(got) != want {
		t.Fatalf("schema\n got %s\nwant %s", got, want)
	}
}
