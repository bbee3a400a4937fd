package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// Two secrets, as during a rotation; the first is the Standard Webhooks
// libraries' test secret.
const (
	signSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	signOld    = "whsec_c2lnbmluZyBzZWNyZXQgYmVmb3JlIHJvdGF0aW9u" // "signing secret before rotation"
)

// capture is a request as the receiver got it.
type capture struct {
	header nethttp.Header
	body   []byte
}

// captureServer records every request and answers 200.
func captureServer(t *testing.T) (*httptest.Server, func() []capture) {
	var mu sync.Mutex
	var got []capture
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		mu.Lock()
		got = append(got, capture{r.Header.Clone(), b})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, func() []capture {
		mu.Lock()
		defer mu.Unlock()
		return append([]capture(nil), got...)
	}
}

// hmacCheck verifies a request the way the specification describes it,
// written here apart from pkg/stdwebhooks: it returns the secrets (of
// those given) whose v1 signature is in the header.
func hmacCheck(t *testing.T, c capture, secrets ...string) []string {
	t.Helper()
	id, ts := c.header.Get("webhook-id"), c.header.Get("webhook-timestamp")
	var ok []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "."))
		m.Write(c.body)
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		for _, sig := range strings.Split(c.header.Get("webhook-signature"), " ") {
			if sig == want {
				ok = append(ok, s)
			}
		}
	}
	return ok
}

func TestTargetSigning(t *testing.T) {
	for _, mode := range []Mode{ModeBinary, ModeStructured, ModeData, ModeBatch} {
		t.Run(string(mode), func(t *testing.T) {
			srv, got := captureServer(t)
			tg := startTarget(t, &TargetConfig{URL: srv.URL, Mode: mode,
				Signing: &Signing{Secret: signSecret, PreviousSecret: signOld}})
			e := testEvent()
			other := testEvent()
			other.SetID("2")
			before := time.Now().Unix()
			for _, ev := range []*ce.Event{e, e, other} { // e twice: a retry
				if err := tg.Send(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			reqs := got()
			if len(reqs) != 3 {
				t.Fatalf("%d requests", len(reqs))
			}
			for i, c := range reqs {
				if signed := hmacCheck(t, c, signSecret, signOld); len(signed) != 2 {
					t.Errorf("request %d: signed with %d of the 2 secrets: %q", i, len(signed), c.header.Get("webhook-signature"))
				}
				ts, err := strconv.ParseInt(c.header.Get("webhook-timestamp"), 10, 64)
				if err != nil || ts < before || ts > time.Now().Unix() {
					t.Errorf("request %d: timestamp %q", i, c.header.Get("webhook-timestamp"))
				}
				// A receiver with only one of the secrets accepts it too.
				for _, s := range []string{signSecret, signOld} {
					v, _ := stdwebhooks.NewVerifier([]string{s})
					if err := v.Verify(c.header, c.body); err != nil {
						t.Errorf("request %d: %v", i, err)
					}
				}
			}
			id0, id1, id2 := reqs[0].header.Get("webhook-id"), reqs[1].header.Get("webhook-id"), reqs[2].header.Get("webhook-id")
			if id0 == "" || id0 != id1 || id0 == id2 || strings.Contains(id0, ".") {
				t.Errorf("webhook-ids %q %q %q: want the same for a retry, another for another event", id0, id1, id2)
			}
		})
	}
}

// A signed request whose body changed in transit is refused by the
// verifier; one signed with an unknown secret too.
func TestTargetSigningTamper(t *testing.T) {
	srv, got := captureServer(t)
	tg := startTarget(t, &TargetConfig{URL: srv.URL, Mode: ModeStructured, Signing: &Signing{Secret: signSecret}})
	if err := tg.Send(context.Background(), testEvent()); err != nil {
		t.Fatal(err)
	}
	c := got()[0]
	if n := len(strings.Fields(c.header.Get("webhook-signature"))); n != 1 {
		t.Fatalf("%d signatures with one secret", n)
	}
	var doc map[string]any
	if err := json.Unmarshal(c.body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["type"] = "com.example.forged"
	forged, _ := json.Marshal(doc)
	v, _ := stdwebhooks.NewVerifier([]string{signSecret})
	if err := v.Verify(c.header, forged); err == nil {
		t.Error("a changed body verified")
	}
	v, _ = stdwebhooks.NewVerifier([]string{signOld})
	if err := v.Verify(c.header, c.body); err == nil {
		t.Error("verified with a secret it was not signed with")
	}
}

func TestTargetSigningValidate(t *testing.T) {
	const leak = "whsec_bm90IGxvbmcgZW5vdWdo" // base64, too short
	cases := []struct {
		edit func(*TargetConfig)
		want string
	}{
		{func(c *TargetConfig) { c.Signing = &Signing{} }, "signing.secret: required"},
		{func(c *TargetConfig) { c.Signing = &Signing{Secret: leak} }, "signing.secret: must be whsec_"},
		{func(c *TargetConfig) { c.Signing = &Signing{Secret: "whsec_!!"} }, "signing.secret: must be whsec_"},
		{func(c *TargetConfig) { c.Signing = &Signing{Secret: signSecret, PreviousSecret: leak} }, "signing.previous_secret: must be"},
		{func(c *TargetConfig) {
			c.Signing = &Signing{Secret: signSecret}
			c.Headers = map[string]spec.Secret{"Webhook-Id": "x"}
		}, "headers.Webhook-Id: signing sets this header"},
		{func(c *TargetConfig) { c.Signing = &Signing{Secret: "${secret:hook}"} }, ""}, // checked once expanded
		{func(c *TargetConfig) { c.Signing = &Signing{Secret: signSecret, PreviousSecret: signOld} }, ""},
	}
	for i, c := range cases {
		cfg := &TargetConfig{URL: "http://example.com/"}
		c.edit(cfg)
		cfg.Defaults()
		p := spec.NewProblems("")
		cfg.Validate(p)
		got := ""
		if err := p.Err(); err != nil {
			got = err.Error()
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("case %d: problems %q, want %q", i, got, c.want)
		}
		if strings.Contains(got, "bm90") || strings.Contains(got, "MfKQ") {
			t.Errorf("case %d: a problem shows the secret: %s", i, got)
		}
	}
}

// The API shows signing secrets as "***" (references as written), as it
// does every secret.
func TestTargetSigningRedacted(t *testing.T) {
	cfg := &TargetConfig{URL: "http://example.com/", Signing: &Signing{Secret: signSecret, PreviousSecret: "${secret:old}"}}
	spec.Redact(cfg)
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), "MfKQ") || !strings.Contains(string(b), `"secret":"***"`) || !strings.Contains(string(b), `${secret:old}`) {
		t.Errorf("redacted: %s", b)
	}
	if s := fmt.Sprint(Signing{Secret: signSecret}); strings.Contains(s, "MfKQ") {
		t.Errorf("printed: %s", s)
	}
}
