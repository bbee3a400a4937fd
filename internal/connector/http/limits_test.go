package http

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const testMaxEvent = 2048

func smallLimits(c *SourceConfig) {
	c.MaxEventSize = testMaxEvent
	c.MaxBatchSize = 4 * testMaxEvent
	c.MaxBatchEvents = 3
}

// structuredEvent is a valid JSON-format event with the given id and a
// string data of n bytes.
func structuredEvent(id string, n int) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/s","type":"t","datacontenttype":"text/plain","data":%q}`, id, strings.Repeat("x", n))
}

func TestSizeLimits(t *testing.T) {
	big := strings.Repeat("x", testMaxEvent+1)
	cases := []struct {
		name string
		body string
		hdr  []string
	}{
		{"binary body over the limit", big, binaryHeaders("Content-Type", "text/plain")},
		{"binary headers and body over the limit", strings.Repeat("x", testMaxEvent-100), binaryHeaders("ce-comexampleext", strings.Repeat("y", 200))},
		{"structured over the limit", structuredEvent("1", testMaxEvent), []string{"Content-Type", MediaStructured}},
		{"batch over the limit", "[" + strings.Repeat(structuredEvent("1", 100)+",", 40) + structuredEvent("1", 1) + "]", []string{"Content-Type", MediaBatch}},
		{"batch over the entry limit", "[" + structuredEvent("1", 1) + "," + structuredEvent("2", 1) + "," + structuredEvent("3", 1) + "," + structuredEvent("4", 1) + "]", []string{"Content-Type", MediaBatch}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, rec := newTestSource(t, smallLimits)
			p := readProblem(t, serve(src, post(c.body, c.hdr...)), 413)
			if p.Code != "too-large" {
				t.Errorf("code %q", p.Code)
			}
			if rec.calls() != 0 {
				t.Error("something was ingested")
			}
		})
	}
	t.Run("batch entry over the per-event limit", func(t *testing.T) {
		src, rec := newTestSource(t, smallLimits)
		body := "[" + structuredEvent("ok", 10) + "," + structuredEvent("big", testMaxEvent) + "]"
		p := readProblem(t, serve(src, post(body, "Content-Type", MediaBatch)), 413)
		if got := problemFields(p); !reflect.DeepEqual(got, []string{"[1].data"}) {
			t.Errorf("errors name %q, want [[1].data]", got)
		}
		if rec.calls() != 0 {
			t.Error("part of the batch was ingested")
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		// Only the ce- headers count with the body, not Content-Type.
		h := binaryHeaders("Content-Type", "text/plain")
		n := testMaxEvent
		for i := 0; i < len(h); i += 2 {
			if strings.HasPrefix(h[i], "ce-") {
				n -= len(h[i]) + len(h[i+1])
			}
		}
		src, rec := newTestSource(t, smallLimits)
		wantAccepted(t, serve(src, post(strings.Repeat("x", n), h...)), rec, 1)
		readProblem(t, serve(src, post(strings.Repeat("x", n+1), h...)), 413)
	})
}

func TestUnsupportedMediaType(t *testing.T) {
	for _, ct := range []string{
		"application/cloudevents+xml",
		"application/cloudevents+protobuf",
		"application/cloudevents+avro; charset=utf-8",
		"application/cloudevents-batch+protobuf",
		"application/cloudevents-batch+xml",
	} {
		t.Run(ct, func(t *testing.T) {
			src, rec := newTestSource(t, nil)
			p := readProblem(t, serve(src, post("<event/>", "Content-Type", ct)), 415)
			if p.Code != "unsupported-media-type" {
				t.Errorf("code %q", p.Code)
			}
			if rec.calls() != 0 {
				t.Error("something was ingested")
			}
		})
	}
}

// The mode follows the Content-Type media type, case-insensitively and
// whatever its parameters (HTTP binding §3).
func TestModeDetection(t *testing.T) {
	for _, ct := range []string{
		MediaStructured,
		"application/cloudevents+json; charset=UTF-8", // bindings/spec-examples/http-protocol-binding_03.txt
		"Application/CloudEvents+JSON",
		"application/cloudevents", // no format suffix: JSON
	} {
		t.Run(ct, func(t *testing.T) {
			src, rec := newTestSource(t, nil)
			wantAccepted(t, serve(src, post(structuredEvent("1", 1), "Content-Type", ct)), rec, 1)
		})
	}
	for _, ct := range []string{
		MediaBatch,
		"application/cloudevents-batch+json; charset=UTF-8", // bindings/spec-examples/http-protocol-binding_06.txt
		"APPLICATION/CLOUDEVENTS-BATCH+JSON",
	} {
		t.Run(ct, func(t *testing.T) {
			src, rec := newTestSource(t, nil)
			body := "[" + structuredEvent("1", 1) + "," + structuredEvent("2", 1) + "]"
			wantAccepted(t, serve(src, post(body, "Content-Type", ct)), rec, 2)
		})
	}
}

func TestBatch(t *testing.T) {
	t.Run("all or nothing", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		body := `[
			{"specversion":"1.0","source":"/s","type":"t"},
			{"specversion":"1.0","id":"2","source":"/s","type":"t"},
			{"specversion":"1.0","id":"3","source":"/s","type":"t","time":"later","Bad":1},
			7
		]`
		w := serve(src, post(body, "Content-Type", MediaBatch))
		p := readProblem(t, w, 400)
		if p.Code != "invalid-batch" {
			t.Errorf("code %q", p.Code)
		}
		want := []string{"[0].id", "[2].Bad", "[2].time", "[3]."}
		if got := problemFields(p); !reflect.DeepEqual(got, want) {
			t.Errorf("errors name %q, want %q", got, want)
		}
		for _, fe := range p.Errors {
			if fe.Index == nil {
				t.Errorf("error %+v has no index", fe)
			}
		}
		if rec.calls() != 0 {
			t.Error("part of an invalid batch was ingested")
		}
	})
	t.Run("one specversion", func(t *testing.T) {
		// HTTP binding §3.3: all batched events MUST have the same specversion.
		src, rec := newTestSource(t, nil)
		body := `[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"0.3","id":"2","source":"/s","type":"t"}]`
		p := readProblem(t, serve(src, post(body, "Content-Type", MediaBatch)), 400)
		if got := problemFields(p); !reflect.DeepEqual(got, []string{"[1].specversion"}) {
			t.Errorf("errors name %q, want [[1].specversion]", got)
		}
		if rec.calls() != 0 {
			t.Error("ingested")
		}
	})
	t.Run("empty", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		wantAccepted(t, serve(src, post("[]", "Content-Type", MediaBatch)), rec, 0)
	})
	t.Run("not an array", func(t *testing.T) {
		src, _ := newTestSource(t, nil)
		readProblem(t, serve(src, post(structuredEvent("1", 1), "Content-Type", MediaBatch)), 400)
	})
	t.Run("order kept", func(t *testing.T) {
		src, rec := newTestSource(t, nil)
		body := "[" + structuredEvent("a", 1) + "," + structuredEvent("b", 2) + "," + structuredEvent("c", 3) + "]"
		got := wantAccepted(t, serve(src, post(body, "Content-Type", MediaBatch)), rec, 3)
		for i, id := range []string{"a", "b", "c"} {
			if got[i].ID() != id || len(got[i].Data()) != i+1 {
				t.Errorf("entry %d: id %q data %q", i, got[i].ID(), got[i].Data())
			}
		}
		if rec.calls() != 1 {
			t.Errorf("%d Ingest calls, want 1 for the whole batch", rec.calls())
		}
	})
}
