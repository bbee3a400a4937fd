package sns

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// The string to sign matches the name/value lists of AWS's docs.
func TestStringToSignMatchesTheDocs(t *testing.T) {
	for _, c := range []struct {
		file, typ string
	}{
		{"testdata/string-to-sign-notification.txt", TypeNotification},
		{"testdata/string-to-sign-subscription.txt", TypeSubscription},
	} {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(webhooktest.ReadFile(t, c.file))), "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		obj := map[string]string{}
		for i := 0; i+1 < len(lines); i += 2 {
			obj[lines[i]] = lines[i+1]
		}
		b, _ := json.Marshal(obj)
		m, err := ParseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != c.typ {
			t.Fatalf("type %s", m.Type)
		}
		want := strings.Join(lines, "\n") + "\n"
		if got := m.StringToSign(); got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.file, got, want)
		}
	}
}

// The documented requests parse and dispatch on their type.
func TestDocumentedRequestsParse(t *testing.T) {
	for file, typ := range map[string]string{
		"testdata/subscription-confirmation.txt": TypeSubscription,
		"testdata/notification.txt":              TypeNotification,
		"testdata/unsubscribe-confirmation.txt":  TypeUnsubscription,
	} {
		hd, body := readDocRequest(t, file)
		m, err := ParseMessage(body)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if m.Type != typ || hd.Get(HeaderMessageType) != typ || m.MessageID != hd.Get("x-amz-sns-message-id") {
			t.Errorf("%s: type %s, header %s", file, m.Type, hd.Get(HeaderMessageType))
		}
		if _, err := CheckSNSURL(m.SigningCertURL); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		if strings.Contains(m.StringToSign(), "\\n") {
			t.Errorf("%s: escapes not decoded", file)
		}
	}
}

func TestVerify(t *testing.T) {
	p := testPKI(t)
	cases := []struct {
		name   string
		msg    func() []byte
		pages  map[string][]byte
		want   error
		fetchd bool
	}{
		{"v1", func() []byte { return sign(t, p.key, notification("m1", "hi"), "1") }, nil, nil, true},
		{"v2", func() []byte { return sign(t, p.key, notification("m1", "hi"), "2") }, nil, nil, true},
		{"without subject", func() []byte {
			m := notification("m1", "hi")
			delete(m, "Subject")
			return sign(t, p.key, m, "2")
		}, nil, nil, true},
		{"tampered message", func() []byte {
			return tamper(sign(t, p.key, notification("m1", "hi"), "1"), "Message", "bye")
		}, nil, webhook.ErrSignature, true},
		{"subject added", func() []byte {
			m := notification("m1", "hi")
			delete(m, "Subject")
			return tamper(sign(t, p.key, m, "1"), "Subject", "injected")
		}, nil, webhook.ErrSignature, true},
		{"version changed", func() []byte {
			return tamper(sign(t, p.key, notification("m1", "hi"), "1"), "SignatureVersion", "2")
		}, nil, webhook.ErrSignature, true},
		{"version 3", func() []byte {
			return tamper(sign(t, p.key, notification("m1", "hi"), "2"), "SignatureVersion", "3")
		}, nil, webhook.ErrSignature, false},
		{"signed by another key", func() []byte { return sign(t, p.rogueKey, notification("m1", "hi"), "1") }, nil, webhook.ErrSignature, true},
		{"certificate from an untrusted CA", func() []byte { return sign(t, p.rogueKey, notification("m1", "hi"), "1") },
			map[string][]byte{certURL: p.roguePEM}, webhook.ErrSignature, true},
		{"expired certificate", func() []byte { return sign(t, p.key, notification("m1", "hi"), "1") },
			map[string][]byte{certURL: p.oldPEM}, webhook.ErrSignature, true},
		{"not a certificate", func() []byte { return sign(t, p.key, notification("m1", "hi"), "1") },
			map[string][]byte{certURL: []byte("<html>")}, webhook.ErrSignature, true},
		{"no signature", func() []byte {
			return tamper(sign(t, p.key, notification("m1", "hi"), "1"), "Signature", "")
		}, nil, webhook.ErrMissing, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, &Config{})
			for u, b := range c.pages {
				f.aws.pages[u] = b
			}
			m, err := ParseMessage(c.msg())
			if err != nil {
				t.Fatal(err)
			}
			err = m.Verify(context.Background(), f.src2certs(), webhooktest.T0)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got := len(f.aws.seen()) > 0; got != c.fetchd {
				t.Fatalf("fetched %v, want %v", f.aws.seen(), c.fetchd)
			}
		})
	}
}

// A certificate URL anywhere but https on sns.<region>.amazonaws.com is
// refused without being fetched.
func TestForeignCertificateURLIsNeverFetched(t *testing.T) {
	p := testPKI(t)
	for _, u := range []string{
		"http://sns.us-west-2.amazonaws.com/cert.pem",
		"https://sns.us-west-2.amazonaws.com.evil.example/cert.pem",
		"https://evil.example/sns.us-west-2.amazonaws.com/cert.pem",
		"https://sns.us-west-2.amazonaws.com@evil.example/cert.pem",
		"https://user@sns.us-west-2.amazonaws.com/cert.pem",
		"https://sns.us-west-2.amazonaws.com:8443/cert.pem",
		"https://s3.amazonaws.com/cert.pem",
		"https://SNS.us-west-2.amazonaws.com/cert.pem",
		"//sns.us-west-2.amazonaws.com/cert.pem",
		"",
	} {
		f := newFixture(t, &Config{})
		f.aws.pages[u] = p.certPEM
		m := notification("m1", "hi")
		m["SigningCertURL"] = u
		w := f.Post(sign(t, p.key, m, "1"))
		webhooktest.WantProblem(t, w, http.StatusUnauthorized, "unauthorized")
		if seen := f.aws.seen(); len(seen) != 0 {
			t.Fatalf("%s: fetched %v", u, seen)
		}
		if f.Col.Count() != 0 {
			t.Fatal("stored")
		}
	}
	for _, u := range []string{certURL, "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem"} {
		if _, err := CheckSNSURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}

func TestCertificateIsCached(t *testing.T) {
	f := newFixture(t, &Config{})
	p := testPKI(t)
	for i, id := range []string{"m1", "m2", "m3"} {
		if code := f.post(sign(t, p.key, notification(id, "hi"), []string{"1", "2", "1"}[i]), TypeNotification); code != 202 {
			t.Fatalf("status %d", code)
		}
	}
	if seen := f.aws.seen(); len(seen) != 1 || seen[0] != "GET "+certURL {
		t.Fatalf("requests %v, want one GET of the certificate", seen)
	}
}

func TestCertificateUnavailable(t *testing.T) {
	f := newFixture(t, &Config{})
	f.aws.status[certURL] = http.StatusInternalServerError
	w := f.Post(sign(t, testPKI(t).key, notification("m1", "hi"), "1"))
	webhooktest.WantProblem(t, w, http.StatusServiceUnavailable, "unavailable")
	if w.Header().Get("Retry-After") == "" || f.Rejected("sns", webhook.ReasonUpstream) != 1 {
		t.Fatal("no Retry-After or not counted")
	}
}

// tamper changes one member of a signed message.
func tamper(body []byte, key, value string) []byte {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	m[key] = value
	out, _ := json.Marshal(m)
	return out
}

// src2certs is the fixture's certificate cache (the source's own).
func (f *fixture) src2certs() *certCache {
	return newCertCache(&http.Client{Transport: f.aws}, f.pki.roots)
}
