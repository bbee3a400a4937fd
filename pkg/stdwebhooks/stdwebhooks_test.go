package stdwebhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// The test vector of the Standard Webhooks reference libraries (the Go,
// Python, JavaScript and Ruby ones share it).
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// independentSign signs the way the specification describes it, written
// apart from the package's code.
func independentSign(secret, id string, ts int64, body string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVector(t *testing.T) {
	key, err := stdwebhooks.ParseSecret(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := stdwebhooks.Sign(key, vecID, vecTS, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %s, want %s", got, vecSig)
	}
	if got := independentSign(vecSecret, vecID, vecTS, vecBody); got != vecSig {
		t.Fatalf("the test's own signer = %s, want %s", got, vecSig)
	}
	v, err := stdwebhooks.NewVerifier([]string{vecSecret})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(vecTS+30, 0) }
	h := http.Header{}
	h.Set("Webhook-Id", vecID)
	h.Set("Webhook-Timestamp", fmt.Sprint(vecTS))
	h.Set("Webhook-Signature", vecSig)
	if err := v.Verify(h, []byte(vecBody)); err != nil {
		t.Fatal(err)
	}
}

func TestRotation(t *testing.T) {
	oldS, newS := secret(1), secret(2)
	s, err := stdwebhooks.NewSigner(newS, oldS)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"specversion":"1.0"}`)
	at := time.Now()
	h := http.Header{}
	s.SetHeaders(h, "evt_1", at, body)
	sigs := strings.Split(h.Get(stdwebhooks.HeaderSignature), " ")
	want := []string{independentSign(newS, "evt_1", at.Unix(), string(body)), independentSign(oldS, "evt_1", at.Unix(), string(body))}
	if len(sigs) != 2 || sigs[0] != want[0] || sigs[1] != want[1] {
		t.Fatalf("signatures %q, want %q", sigs, want)
	}
	// A receiver that knows only the old secret, or only the new one,
	// accepts the message; one that knows neither does not.
	for _, known := range [][]string{{oldS}, {newS}, {secret(3), oldS}} {
		v, _ := stdwebhooks.NewVerifier(known)
		if err := v.Verify(h, body); err != nil {
			t.Errorf("verifier with %d secrets: %v", len(known), err)
		}
	}
	v, _ := stdwebhooks.NewVerifier([]string{secret(3)})
	if err := v.Verify(h, body); !errors.Is(err, stdwebhooks.ErrNoMatch) {
		t.Errorf("unknown secret: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	sec := secret(1)
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	good := func() http.Header {
		h := http.Header{}
		h.Set(stdwebhooks.HeaderID, "evt_x")
		h.Set(stdwebhooks.HeaderTimestamp, fmt.Sprint(now.Unix()))
		h.Set(stdwebhooks.HeaderSignature, independentSign(sec, "evt_x", now.Unix(), string(body)))
		return h
	}
	cases := []struct {
		name string
		edit func(http.Header) []byte
		want error
	}{
		{"good", func(http.Header) []byte { return body }, nil},
		{"other signatures around the good one", func(h http.Header) []byte {
			h.Set(stdwebhooks.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,xyz "+h.Get(stdwebhooks.HeaderSignature)+" v2,abc")
			return body
		}, nil},
		{"body changed", func(http.Header) []byte { return []byte(`{"a":2}`) }, stdwebhooks.ErrNoMatch},
		{"id changed", func(h http.Header) []byte { h.Set(stdwebhooks.HeaderID, "evt_y"); return body }, stdwebhooks.ErrNoMatch},
		{"timestamp changed", func(h http.Header) []byte {
			h.Set(stdwebhooks.HeaderTimestamp, fmt.Sprint(now.Unix()+1))
			return body
		}, stdwebhooks.ErrNoMatch},
		{"empty signature", func(h http.Header) []byte { h.Set(stdwebhooks.HeaderSignature, "v1,"); return body }, stdwebhooks.ErrNoMatch},
		{"wrong version", func(h http.Header) []byte {
			h.Set(stdwebhooks.HeaderSignature, strings.Replace(h.Get(stdwebhooks.HeaderSignature), "v1,", "v1a,", 1))
			return body
		}, stdwebhooks.ErrNoMatch},
		{"no id", func(h http.Header) []byte { h.Del(stdwebhooks.HeaderID); return body }, stdwebhooks.ErrMissingHeaders},
		{"no timestamp", func(h http.Header) []byte { h.Del(stdwebhooks.HeaderTimestamp); return body }, stdwebhooks.ErrMissingHeaders},
		{"no signature", func(h http.Header) []byte { h.Del(stdwebhooks.HeaderSignature); return body }, stdwebhooks.ErrMissingHeaders},
		{"timestamp not a number", func(h http.Header) []byte { h.Set(stdwebhooks.HeaderTimestamp, "1e9"); return body }, stdwebhooks.ErrInvalidHeaders},
		{"dot in id", func(h http.Header) []byte { h.Set(stdwebhooks.HeaderID, "a.b"); return body }, stdwebhooks.ErrInvalidHeaders},
	}
	v, err := stdwebhooks.NewVerifier([]string{sec})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	for _, c := range cases {
		h := good()
		b := c.edit(h)
		err := v.Verify(h, b)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestTolerance(t *testing.T) {
	sec := secret(1)
	v, _ := stdwebhooks.NewVerifier([]string{sec})
	now := time.Unix(1_700_000_000, 0)
	v.Now = func() time.Time { return now }
	for _, c := range []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true}, {-5 * time.Minute, true}, {5 * time.Minute, true},
		{-5*time.Minute - time.Second, false}, {5*time.Minute + time.Second, false},
	} {
		ts := now.Add(c.offset).Unix()
		h := http.Header{}
		h.Set(stdwebhooks.HeaderID, "evt_1")
		h.Set(stdwebhooks.HeaderTimestamp, fmt.Sprint(ts))
		h.Set(stdwebhooks.HeaderSignature, independentSign(sec, "evt_1", ts, "x"))
		err := v.Verify(h, []byte("x"))
		if c.ok != (err == nil) || !c.ok && !errors.Is(err, stdwebhooks.ErrTimestamp) {
			t.Errorf("offset %s: err = %v", c.offset, err)
		}
	}
	v.Tolerance = -1
	h := http.Header{}
	h.Set(stdwebhooks.HeaderID, "evt_1")
	h.Set(stdwebhooks.HeaderTimestamp, "1000")
	h.Set(stdwebhooks.HeaderSignature, independentSign(sec, "evt_1", 1000, "x"))
	if err := v.Verify(h, []byte("x")); err != nil {
		t.Errorf("tolerance off: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	for s, ok := range map[string]bool{
		vecSecret:                               true,
		strings.TrimPrefix(vecSecret, "whsec_"): true, // the prefix may be left out
		"whsec_":                                false,
		"whsec_not base64!":                     false,
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)): false,
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)): false,
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 64)): true,
	} {
		_, err := stdwebhooks.ParseSecret(s)
		if ok != (err == nil) || err != nil && !errors.Is(err, stdwebhooks.ErrSecret) {
			t.Errorf("ParseSecret(%.20q): %v", s, err)
		}
	}
	if _, err := stdwebhooks.NewVerifier(nil); !errors.Is(err, stdwebhooks.ErrSecret) {
		t.Errorf("no secrets: %v", err)
	}
}

// secret returns a distinct valid secret for each n.
func secret(n byte) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = n + byte(i)
	}
	return stdwebhooks.SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func BenchmarkSign1KiB(b *testing.B) {
	key, _ := stdwebhooks.ParseSecret(vecSecret)
	body := make([]byte, 1024)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		stdwebhooks.Sign(key, vecID, vecTS, body)
	}
}
