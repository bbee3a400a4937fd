package event

import (
	"runtime"
	"strconv"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// eventWithExtensions is a valid event with n string extensions.
func eventWithExtensions(tb testing.TB, n int) *ce.Event {
	tb.Helper()
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	for i := 0; i < n; i++ {
		if err := e.Context.SetExtension("x"+strconv.Itoa(i), "v"+strconv.Itoa(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return &e
}

// allocatedBy is the number of bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBinaryAttributesLinear guards against a per-extension copy of the
// extension map (e.Extensions() copies it): twice the extensions must
// cost about twice the memory, not four times. Bytes allocated, unlike
// time, do not depend on how busy the machine is.
func TestBinaryAttributesLinear(t *testing.T) {
	const n = 1000
	small, large := eventWithExtensions(t, n), eventWithExtensions(t, 2*n)
	var m map[string]string
	a := allocatedBy(func() { m = BinaryAttributes(small) })
	if len(m) != n+4 {
		t.Fatalf("%d attributes, want %d", len(m), n+4)
	}
	b := allocatedBy(func() { m = BinaryAttributes(large) })
	if len(m) != 2*n+4 {
		t.Fatalf("%d attributes, want %d", len(m), 2*n+4)
	}
	if ratio := float64(b) / float64(a); ratio > 3 {
		t.Errorf("%d extensions allocate %d bytes, %d allocate %d: %.1f times as much, want about 2 (linear)", n, a, 2*n, b, ratio)
	}
}

// TestExtensionHelpers checks that the copy-free readers see what
// e.Extensions() sees, in both specversions.
func TestExtensionHelpers(t *testing.T) {
	for _, sv := range []string{ce.CloudEventsVersionV1, ce.CloudEventsVersionV03} {
		e := ce.New(sv)
		e.SetID("1")
		if _, ok := Extension(&e, "a"); ok || ExtensionCount(&e) != 0 {
			t.Fatalf("%s: an event without extensions has one", sv)
		}
		e.SetExtension("a", "1")
		e.SetExtension("b", 2)
		if v, ok := Extension(&e, "b"); !ok || v != int32(2) {
			t.Errorf("%s: Extension(b) = %v, %v", sv, v, ok)
		}
		if ExtensionCount(&e) != 2 {
			t.Errorf("%s: ExtensionCount = %d", sv, ExtensionCount(&e))
		}
		seen := map[string]any{}
		RangeExtensions(&e, func(k string, v any) bool { seen[k] = v; return true })
		if len(seen) != len(e.Extensions()) {
			t.Errorf("%s: RangeExtensions saw %v, want %v", sv, seen, e.Extensions())
		}
		if s, ok := Attr(&e, "b"); !ok || s != "2" {
			t.Errorf("%s: Attr(b) = %q", sv, s)
		}
	}
}

// BenchmarkBinaryAttributes shows the cost per extension stays flat from
// 10 to 10,000 extensions.
func BenchmarkBinaryAttributes(b *testing.B) {
	for _, n := range []int{10, 100, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			e := eventWithExtensions(b, n)
			b.ReportAllocs()
			for b.Loop() {
				BinaryAttributes(e)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/ext")
		})
	}
}
