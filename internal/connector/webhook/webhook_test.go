package webhook

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// RFC 4231 test case 2 (HMAC-SHA256, HMAC-SHA512) and RFC 2202 test case 2
// (HMAC-SHA1): key "Jefe", data "what do ya want for nothing?".
func TestHMACVectors(t *testing.T) {
	key, data := []byte("Jefe"), []byte("what do ya want for nothing?")
	vectors := []struct {
		h    Hash
		want string
	}{
		{SHA1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{SHA256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{SHA512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	}
	for _, v := range vectors {
		if got := hex.EncodeToString(Sign(v.h.New(), key, data)); got != v.want {
			t.Errorf("%s: %s", v.h, got)
		}
		// Split input signs the same as whole input.
		if got := hex.EncodeToString(Sign(v.h.New(), key, data[:4], data[4:])); got != v.want {
			t.Errorf("%s in parts: %s", v.h, got)
		}
		if err := VerifyHMAC(v.h.New(), key, Hex, []string{strings.ToUpper(v.want)}, data); err != nil {
			t.Errorf("%s: upper-case hex refused: %v", v.h, err)
		}
		raw, _ := hex.DecodeString(v.want)
		for _, b64 := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)} {
			if err := VerifyHMAC(v.h.New(), key, Base64, []string{b64}, data); err != nil {
				t.Errorf("%s: base64 %s refused: %v", v.h, b64, err)
			}
		}
	}
	if Hash("md5").New() != nil {
		t.Error("md5 accepted")
	}
}

func TestVerifyHMACOutcomes(t *testing.T) {
	key, body := []byte("k"), []byte("body")
	good := hex.EncodeToString(Sign(sha256.New, key, body))
	cases := []struct {
		name string
		sigs []string
		want error
	}{
		{"none", nil, ErrMissing},
		{"garbage", []string{"not-hex"}, ErrSignature},
		{"wrong", []string{hex.EncodeToString(Sign(sha256.New, []byte("x"), body))}, ErrSignature},
		{"one of several", []string{"00", good, "zz"}, nil},
	}
	for _, c := range cases {
		if err := VerifyHMAC(sha256.New, key, Hex, c.sigs, body); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tol := 5 * time.Minute
	for _, c := range []struct {
		at   time.Time
		want error
	}{
		{now, nil},
		{now.Add(-tol), nil},
		{now.Add(tol), nil},
		{now.Add(-tol - time.Second), ErrStale},
		{now.Add(tol + time.Second), ErrStale},
	} {
		if err := CheckTimestamp(now, c.at, tol); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.at.Sub(now), err, c.want)
		}
	}
	for _, s := range []string{"", "x", "-1", "1.5", "99999999999999999999"} {
		if _, err := ParseUnix(s); !errors.Is(err, ErrSignature) {
			t.Errorf("ParseUnix(%q): %v", s, err)
		}
	}
	if got, err := ParseUnix(" 1492774577"); err != nil || got.Unix() != 1492774577 {
		t.Errorf("ParseUnix: %v %v", got, err)
	}
}

func TestReplayGuard(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	g := NewReplayGuard(time.Minute, 3)
	if err := g.Check(now, "sig1", "a"); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(now, "sig1", "a"); err != nil {
		t.Fatalf("same delivery again: %v", err)
	}
	if err := g.Check(now, "sig1", "b"); !errors.Is(err, ErrReplay) {
		t.Fatalf("another id: %v", err)
	}
	// Past the window it is forgotten.
	if err := g.Check(now.Add(61*time.Second), "sig1", "b"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// At most max entries: the oldest goes.
	for _, p := range []string{"p1", "p2", "p3"} {
		_ = g.Check(now.Add(62*time.Second), p, "k")
	}
	if n := len(g.seen); n > 3 {
		t.Fatalf("%d entries kept, max 3", n)
	}
	if err := g.Check(now.Add(62*time.Second), "sig1", "c"); err != nil {
		t.Fatalf("evicted entry still refused: %v", err)
	}
	var nilGuard *ReplayGuard
	if err := nilGuard.Check(now, "x", "y"); err != nil {
		t.Fatal(err)
	}
}

func TestCredentials(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	if err := CheckBearer(r, []spec.Secret{"t1"}); !errors.Is(err, ErrMissing) {
		t.Fatalf("no token: %v", err)
	}
	r.Header.Set("Authorization", "Bearer t2")
	if err := CheckBearer(r, []spec.Secret{"t1", "t2"}); err != nil {
		t.Fatalf("second token: %v", err)
	}
	if err := CheckBearer(r, []spec.Secret{"t1"}); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong token: %v", err)
	}
	r.SetBasicAuth("user", "pass")
	if err := CheckBasic(r, "user", "pass"); err != nil {
		t.Fatal(err)
	}
	if err := CheckBasic(r, "user", "other"); !errors.Is(err, ErrSignature) {
		t.Fatal(err)
	}
	if err := CheckBasic(r, "someone", "pass"); !errors.Is(err, ErrSignature) {
		t.Fatal(err)
	}
	if Equal("", "") {
		t.Fatal("an empty configured secret matched")
	}
	if err := CheckToken("", "x"); !errors.Is(err, ErrMissing) {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err    error
		status int
		reason string
	}{
		{ErrMissing, 401, ReasonMissing},
		{ErrSignature, 401, ReasonSignature},
		{ErrStale, 401, ReasonStale},
		{ErrReplay, 401, ReasonReplay},
		{ErrForbidden, 403, ReasonForbidden},
		{ErrTooLarge, 413, ReasonTooLarge},
		{ErrUpstream, 503, ReasonUpstream},
		{Invalidf("x"), 400, ReasonInvalid},
		{errors.New("anything"), 400, ReasonInvalid},
	}
	for _, c := range cases {
		p, reason := Classify(c.err)
		if p.Status != c.status || reason != c.reason {
			t.Errorf("%v: %d %s", c.err, p.Status, reason)
		}
	}
	e := &Event{ID: "1", Source: "a b", Type: "t"}
	_, err := e.Build()
	if p, _ := Classify(err); p.Code != "invalid-event" || len(p.Errors) == 0 {
		t.Errorf("invalid event: %+v", p)
	}
	if p, _ := Classify(ErrUpstream); p.RetryAfter == 0 {
		t.Error("upstream without Retry-After")
	}
}

func TestBuild(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	e, err := (&Event{ID: "1", Source: "/s", Type: "t", Subject: "x", Time: at, DataContentType: "application/json",
		Data: []byte(`{"a":1}`), Extensions: map[string]string{"region": "eu"}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if e.Extensions()["region"] != "eu" || !e.Time().Equal(at) || e.Subject() != "x" || string(e.Data()) != `{"a":1}` {
		t.Fatalf("%v", e)
	}
	for _, bad := range []Event{
		{ID: "\xff", Source: "/s", Type: "t"},
		{ID: "1", Source: "/s", Type: "t\n"},
		{ID: "1", Source: "/s", Type: "t", Extensions: map[string]string{"Bad-Name": "v"}},
	} {
		if _, err := bad.Build(); err == nil {
			t.Errorf("%+v built", bad)
		}
	}
}

func TestExtensionName(t *testing.T) {
	for in, want := range map[string]string{
		"Message-Group": "messagegroup", "detail-type": "detailtype", "x_y.z": "xyz",
		"id": "", "DATA": "", "---": "", "Time": "", "région": "rgion",
	} {
		if got := ExtensionName(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestJSONHelpers(t *testing.T) {
	m, err := ParseObject([]byte(`{"a":{"b":9007199254740993,"t":"2020-01-02T03:04:05Z","u":1600000000,"f":true,"n":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := String(m, "a.b"); got != "9007199254740993" {
		t.Errorf("number %s", got)
	}
	if String(m, "a.f") != "true" || String(m, "a.n") != "" || String(m, "a.b.c") != "" || String(m, "zz") != "" {
		t.Error("string lookups")
	}
	if tm, ok := Time(m, "a.t"); !ok || tm.Year() != 2020 {
		t.Error("RFC 3339 time")
	}
	if tm, ok := Time(m, "a.u"); !ok || tm.Unix() != 1600000000 {
		t.Error("Unix time")
	}
	for _, bad := range []string{`[]`, `null`, `{} {}`, `{`, `"x"`} {
		if _, err := ParseObject([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestReadBody(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 2000)))
	if _, err := ReadBody(w, r, 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("declared length: %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 2000)))
	r.ContentLength = -1
	if _, err := ReadBody(w, r, 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("chunked: %v", err)
	}
}
