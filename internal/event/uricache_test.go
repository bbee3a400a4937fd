package event

import (
	"strings"
	"testing"
)

// TestParseURIRefCache: a source that passed is kept and given again as
// it was; one that failed fails again; a long one is not kept.
func TestParseURIRefCache(t *testing.T) {
	a, err := parseURIRef("/cache/test?q=1#f")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseURIRef("/cache/test?q=1#f")
	if err != nil || a.String() != b.String() || b.String() != "/cache/test?q=1#f" {
		t.Fatalf("again: %v, %v", b, err)
	}
	if _, ok := uriCache.Load("/cache/test?q=1#f"); !ok {
		t.Error("not kept")
	}
	for range 2 {
		if _, err := parseURIRef("/a b"); err == nil {
			t.Fatal(`"/a b" passed`)
		}
	}
	long := "/" + strings.Repeat("x", uriCacheMaxLen)
	if _, err := parseURIRef(long); err != nil {
		t.Fatal(err)
	}
	if _, ok := uriCache.Load(long); ok {
		t.Error("a long one was kept")
	}
}
