package poll

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func TestNextLink(t *testing.T) {
	base := "https://api.example/repos/o/r/issues?page=1"
	cases := []struct{ link, want string }{
		{`<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"`, "https://api.example/x?page=2"},
		{`<https://api.example/x?page=9>; rel="last", <https://api.example/x?page=2>; rel="next"`, "https://api.example/x?page=2"},
		{`</x?page=2&a=1,2>; rel=next`, "https://api.example/x?page=2&a=1,2"},
		{`<?page=3>; title="a, b"; rel="prev next"`, "https://api.example/repos/o/r/issues?page=3"},
		{`<https://api.example/x?page=1>; rel="prev"`, ""},
		{`<ftp://elsewhere/>; rel="next"`, ""},
		{``, ""},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.link != "" {
			h.Set("Link", c.link)
		}
		if got := nextLink(h, base); got != c.want {
			t.Errorf("%s: %q, want %q", c.link, got, c.want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "0": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got, ok := retryAfter(v, now); !ok || got != want {
			t.Errorf("%q: %s %v, want %s", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-5"} {
		if _, ok := retryAfter(v, now); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestSeenSetBoundedWithTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSeenSet(3, time.Hour)
	for i := range 5 {
		s.mark(fmt.Sprint(i), now.Add(time.Duration(i)*time.Minute))
	}
	later := now.Add(5 * time.Minute)
	b := s.encode(later)
	back, err := decodeSeen(b, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if back.len() != 3 || !back.has("4", later) || !back.has("2", later) || back.has("1", later) {
		t.Errorf("kept %d ids; want the 3 most recently seen", back.len())
	}
	// Seen again, an old id is kept longer.
	back.mark("2", now.Add(50*time.Minute))
	at := now.Add(65 * time.Minute)
	if !back.has("2", at) || back.has("3", at) {
		t.Errorf("TTL: 2 refreshed at :50 must live, 3 seen at :03 must not")
	}
	if back.encode(at); back.len() != 1 {
		t.Errorf("%d ids after expiry, want 1", back.len())
	}
	// An id seen lately does not make the set dirty.
	fresh := newSeenSet(10, time.Hour)
	fresh.mark("a", now)
	fresh.dirty = false
	fresh.mark("a", now.Add(time.Minute))
	if fresh.dirty {
		t.Error("a recent refresh dirtied the set")
	}
	fresh.mark("a", now.Add(20*time.Minute))
	if !fresh.dirty {
		t.Error("an old refresh did not dirty the set")
	}
	if _, err := decodeSeen([]byte("junk"), 3, time.Hour); err == nil {
		t.Error("junk decoded")
	}
	// 50,000 ids fit in NATS's default 1 MiB payload.
	big := newSeenSet(MaxSeen, time.Hour)
	for i := range MaxSeen {
		big.mark(fmt.Sprint(i), now)
	}
	if n := len(big.encode(now)); n > 1<<20-1024 {
		t.Errorf("%d bytes", n)
	}
}

func TestConfigProblems(t *testing.T) {
	connectortest.WantSourceConfigs(t, map[string]string{
		`{"type":"poll","every":"30s","url":"https://api.example/items"}`: "",
		`{"type":"poll","cron":"*/5 * * * *","timezone":"Europe/Paris","url":"https://api.example/items","items":".data[]","id":".id",
		   "pagination":{"next":".next","cursor_param":"after"},"auth":{"bearer":"x"}}`: "",
		`{"type":"poll","url":"https://api.example/"}`:                                                 "spec: required: every or cron",
		`{"type":"poll","at":"2026-01-01T00:00:00Z","url":"https://api.example/"}`:                     "spec.at: this source runs repeatedly",
		`{"type":"poll","every":"1m"}`:                                                                 "spec.url: required",
		`{"type":"poll","every":"1m","url":"ftp://x/"}`:                                                "spec.url: must be an http",
		`{"type":"poll","every":"1m","url":"https://x/","method":"PUT"}`:                               "spec.method",
		`{"type":"poll","every":"1m","url":"https://x/","body":"{}"}`:                                  "spec.body: only POST",
		`{"type":"poll","every":"1m","url":"https://x/","items":".[] |"}`:                              "spec.items: jq",
		`{"type":"poll","every":"1m","url":"https://x/","id":"$nope"}`:                                 "spec.id: jq",
		`{"type":"poll","every":"1m","url":"https://x/","pagination":{"next":"$headers.link | $url"}}`: "",
		`{"type":"poll","every":"1m","url":"https://x/","pagination":{"cursor_param":"c"}}`:            "spec.pagination.cursor_param",
		`{"type":"poll","every":"1m","url":"https://x/","pagination":{"max_pages":-1}}`:                "spec.pagination.max_pages",
		`{"type":"poll","every":"1m","url":"https://x/","seen":{"max":60000}}`:                         "spec.seen.max",
		`{"type":"poll","every":"1m","url":"https://x/","seen":{"ttl":"1s"}}`:                          "spec.seen.ttl",
		`{"type":"poll","every":"1m","url":"https://x/","auth":{}}`:                                    "spec.auth: set exactly one",
		`{"type":"poll","every":"1m","url":"https://x/","backoff":{"initial":"10s","max":"1s"}}`:       "spec.backoff",
	})
}
