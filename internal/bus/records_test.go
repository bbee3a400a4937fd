package bus

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func sampleDelivery() Delivery {
	return Delivery{
		Rule: "orders", Target: "hook", Key: "src\x00id-1", Attempts: 3,
		FirstTry:   time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Ingested:   time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		LastStatus: 503, LastError: "service unavailable", MsgID: "k.r3.orders.hook",
		Event: []byte(`{"specversion":"1.0","id":"id-1","source":"s","type":"t"}`),
	}
}

func TestRetryRecordRoundTrip(t *testing.T) {
	in := &RetryRecord{Delivery: sampleDelivery(), NotBefore: time.Date(2026, 1, 2, 3, 5, 0, 7, time.UTC)}
	m := in.Encode()
	if m.Subject != RetrySubject("orders", "hook") {
		t.Fatalf("subject %q", m.Subject)
	}
	if got := m.Header.Get(HdrContentType); got != ContentTypeEvent {
		t.Errorf("content type %q", got)
	}
	out := DecodeRetry(m.Header, m.Data)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	in := &DeadLetter{Delivery: sampleDelivery(), Reason: "exhausted"}
	m := in.Encode()
	if m.Subject != DLQSubject("orders", "hook") || !IsDLQSubjectOf(m.Subject, "orders") || IsDLQSubjectOf(m.Subject, "order") {
		t.Fatalf("subject %q", m.Subject)
	}
	if m.Header.Get(jetstream.MsgTTLHeader) != "" {
		t.Errorf("TTL header without a TTL")
	}
	out := DecodeDeadLetter(m.Header, m.Data)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
	in.TTL = time.Hour
	if got := in.Encode().Header.Get(jetstream.MsgTTLHeader); got != "1h0m0s" {
		t.Errorf("TTL header %q", got)
	}
}

func TestDeliveryZeroFieldsAndUnsafeError(t *testing.T) {
	in := &RetryRecord{Delivery: Delivery{Rule: "r", Target: "t", LastError: "line1\r\nline2" + strings.Repeat("x", 2000)}}
	m := in.Encode()
	for _, h := range []string{HdrFirstTry, HdrIngested, HdrLastStatus, HdrNotBefore, jetstream.MsgIDHeader} {
		if v := m.Header.Get(h); v != "" {
			t.Errorf("%s = %q for a zero field", h, v)
		}
	}
	le := m.Header.Get(HdrLastError)
	if strings.ContainsAny(le, "\r\n") || len(le) != 1024 || !strings.HasSuffix(le, "...") || !strings.HasPrefix(le, "line1  line2") {
		t.Errorf("last error header %q (%d bytes)", le[:min(len(le), 40)], len(le))
	}
	out := DecodeRetry(m.Header, m.Data)
	if !out.FirstTry.IsZero() || !out.NotBefore.IsZero() || out.Attempts != 0 || out.LastStatus != 0 {
		t.Errorf("zero fields read back as %+v", out)
	}
}

func TestDeadLetterRetry(t *testing.T) {
	d := &DeadLetter{Delivery: sampleDelivery(), Reason: "permanent"}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	r := DecodeRetry(func() (h map[string][]string, data []byte) { m := d.Retry(42, now).Encode(); return m.Header, m.Data }())
	want := &RetryRecord{
		Delivery: Delivery{Rule: "orders", Target: "hook", Key: "rd42." + d.Key, MsgID: "redrive.42",
			Ingested: d.Ingested, Event: d.Event},
		NotBefore: now,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("redrive record:\n got %+v\nwant %+v", r, want)
	}
}

func TestFilters(t *testing.T) {
	for _, c := range [][2]string{
		{EventFilter("", ""), "events.>"},
		{EventFilter("web", ""), "events.web.*"},
		{EventFilter("", "a.b"), "events.*.a%2Eb"},
		{EventFilter("web", "a.b"), EventSubject("web", "a.b")},
		{SourceEvents("web"), "events.web.>"},
		{DLQFilter("r", ""), "dlq.r.>"},
		{DLQFilter("r", "t"), DLQSubject("r", "t")},
	} {
		if c[0] != c[1] {
			t.Errorf("got %q, want %q", c[0], c[1])
		}
	}
}
