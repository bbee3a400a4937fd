package generic

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const body = `{"order":{"id":1001,"status":"paid"}}`

const orderMapping = `"event":{"type":"\"com.example.order.\" + .body.order.status","source":"\"/shop\""}`

func newFixture(t testing.TB, cfgJSON string) *webhooktest.Fixture {
	t.Helper()
	f := webhooktest.NewFixture()
	var err error
	f.Src, err = newSource("wh", webhooktest.SourceConfig(t, cfgJSON).(*Config), f.Deps, f.Options())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Signatures computed outside Go (Python's hmac) over body with the key
// "gen-secret".
func TestHMACSchemes(t *testing.T) {
	cases := []struct {
		name, hmac string
		headers    []string
		status     int
		reason     string
	}{
		{"sha256 hex", `{"secret":"gen-secret","header":"X-Signature"}`,
			[]string{"X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"}, 202, ""},
		{"sha256 hex, prefix, upper case, among others", `{"secret":"gen-secret","header":"X-Hub-Signature-256","prefix":"sha256="}`,
			[]string{"X-Hub-Signature-256", "sha256=00, sha256=1A378EFC8CA0A34B933553751F83DE9E4B3C1480D2459997B1A0BC3C68EE9DE9"}, 202, ""},
		{"sha1 hex", `{"secret":"gen-secret","header":"X-Signature","algorithm":"sha1","prefix":"sha1="}`,
			[]string{"X-Signature", "sha1=7d6f99741d30a5844cbc50b6b2a43e6b123a295f"}, 202, ""},
		{"sha512 base64", `{"secret":"gen-secret","header":"X-Sig","algorithm":"sha512","encoding":"base64"}`,
			[]string{"X-Sig", "XclOFOxoF/1VnmOZv9YY0r17xHI8I2gEef299+ABj2cWF9xFvM4edN56aiDyqY63b5VI1jHWmLXONyZz9gxDww=="}, 202, ""},
		{"signed timestamp", `{"secret":"gen-secret","header":"X-Sig","timestamp_header":"X-Timestamp"}`,
			[]string{"X-Sig", "480773984716b4f2aeb6e402c772f6a00a46cfa3a0d2cee03cde56639e1797ae", "X-Timestamp", "1714564800"}, 202, ""},
		{"Slack-style payload", `{"secret":"gen-secret","header":"X-Slack-Signature","prefix":"v0=","timestamp_header":"X-Slack-Request-Timestamp","payload":"v0:{timestamp}:{body}"}`,
			[]string{"X-Slack-Signature", "v0=e5e4426ebf4d82667778966f709655c413eedee9f3dd2791fdc0300c17fa10fd", "X-Slack-Request-Timestamp", "1714564800"}, 202, ""},
		{"wrong secret", `{"secret":"other","header":"X-Signature"}`,
			[]string{"X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"}, 401, webhook.ReasonSignature},
		{"wrong algorithm", `{"secret":"gen-secret","header":"X-Signature","algorithm":"sha512"}`,
			[]string{"X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"}, 401, webhook.ReasonSignature},
		{"missing header", `{"secret":"gen-secret","header":"X-Signature"}`, nil, 401, webhook.ReasonMissing},
		{"missing prefix", `{"secret":"gen-secret","header":"X-Signature","prefix":"sha256="}`,
			[]string{"X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"}, 401, webhook.ReasonSignature},
		{"timestamp changed", `{"secret":"gen-secret","header":"X-Sig","timestamp_header":"X-Timestamp"}`,
			[]string{"X-Sig", "480773984716b4f2aeb6e402c772f6a00a46cfa3a0d2cee03cde56639e1797ae", "X-Timestamp", "1714564801"}, 401, webhook.ReasonSignature},
		{"timestamp missing", `{"secret":"gen-secret","header":"X-Sig","timestamp_header":"X-Timestamp"}`,
			[]string{"X-Sig", "480773984716b4f2aeb6e402c772f6a00a46cfa3a0d2cee03cde56639e1797ae"}, 401, webhook.ReasonMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, `{"type":"webhook","auth":{"hmac":`+c.hmac+`},`+orderMapping+`}`)
			w := f.Post([]byte(body), c.headers...)
			if c.status == 202 {
				webhooktest.WantStatus(t, w, 202)
				webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{"type": "com.example.order.paid", "source": "/shop"})
				return
			}
			f.WantUnauthorized(t, w, "wh", c.reason)
		})
	}
}

func TestStaleAndTampered(t *testing.T) {
	f := newFixture(t, `{"type":"webhook","auth":{"hmac":{"secret":"gen-secret","header":"X-Sig","timestamp_header":"X-Timestamp","tolerance":"1m"}},`+orderMapping+`}`)
	hdr := []string{"X-Sig", "480773984716b4f2aeb6e402c772f6a00a46cfa3a0d2cee03cde56639e1797ae", "X-Timestamp", "1714564800"}
	f.Clock.Advance(61 * time.Second)
	webhooktest.WantProblem(t, f.Post([]byte(body), hdr...), 401, "unauthorized")
	if f.Rejected("wh", webhook.ReasonStale) != 1 {
		t.Fatal("stale not counted")
	}
	f.Clock.Advance(-61 * time.Second)
	webhooktest.WantProblem(t, f.Post([]byte(strings.Replace(body, "paid", "void", 1)), hdr...), 401, "unauthorized")
	webhooktest.WantStatus(t, f.Post([]byte(body), hdr...), 202)
}

func TestBearerAndBasic(t *testing.T) {
	basic := httptest.NewRequest("POST", "/", nil)
	basic.SetBasicAuth("u", "p")
	cases := []struct {
		auth    string
		headers []string
		status  int
	}{
		{`{"bearer":{"tokens":["t1"]}}`, []string{"Authorization", "Bearer t1"}, 202},
		{`{"bearer":{"tokens":["t1"]}}`, []string{"Authorization", "Bearer t2"}, 401},
		{`{"bearer":{"tokens":["t1"]}}`, nil, 401},
		{`{"basic":{"username":"u","password":"p"}}`, []string{"Authorization", basic.Header.Get("Authorization")}, 202},
		{`{"basic":{"username":"u","password":"x"}}`, []string{"Authorization", basic.Header.Get("Authorization")}, 401},
	}
	for _, c := range cases {
		f := newFixture(t, `{"type":"webhook","auth":`+c.auth+`,`+orderMapping+`}`)
		w := f.Post([]byte(body), c.headers...)
		if c.status == 202 {
			webhooktest.WantStatus(t, w, 202)
		} else {
			webhooktest.WantProblem(t, w, 401, "unauthorized")
		}
	}
}

// TestMapping runs the cases of testdata/mapping.yaml.
func TestMapping(t *testing.T) {
	var cases []struct {
		Name    string            `yaml:"name"`
		Event   Mapping           `yaml:"event"`
		Body    string            `yaml:"body"`
		Headers map[string]string `yaml:"headers"`
		Status  int               `yaml:"status"`
		Want    map[string]string `yaml:"want"`
	}
	if err := yaml.Unmarshal(webhooktest.ReadFile(t, "testdata/mapping.yaml"), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ev, _ := json.Marshal(c.Event)
			f := newFixture(t, `{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":`+string(ev)+`}`)
			hdr := []string{"Authorization", "Bearer t"}
			for k, v := range c.Headers {
				hdr = append(hdr, k, v)
			}
			f.WantOutcome(t, f.Post([]byte(c.Body), hdr...), c.Status, c.Want)
		})
	}
}

func TestIDDefaultsToTheBodysHash(t *testing.T) {
	f := newFixture(t, `{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":{"type":"\"t\"","source":"\"/s\""}}`)
	webhooktest.WantStatus(t, f.Post([]byte(body), "Authorization", "Bearer t"), 202)
	webhooktest.WantStatus(t, f.Post([]byte(body), "Authorization", "Bearer t"), 202)
	webhooktest.WantAttrs(t, f.Col.Events()[0], map[string]string{"id": webhook.BodyID([]byte(body))})
	if f.Col.Distinct() != 1 {
		t.Fatal("a repeated body got two ids")
	}
}

// The id from an unsigned header: the same signed body under another id is a replay.
func TestReplay(t *testing.T) {
	f := newFixture(t, `{"type":"webhook","auth":{"hmac":{"secret":"gen-secret","header":"X-Signature"}},"event":{"type":"\"t\"","source":"\"/s\"","id":".headers[\"x-delivery\"]"}}`)
	sig := []string{"X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"}
	webhooktest.WantStatus(t, f.Post([]byte(body), append(sig, "X-Delivery", "d1")...), 202)
	webhooktest.WantStatus(t, f.Post([]byte(body), append(sig, "X-Delivery", "d1")...), 202)
	webhooktest.WantProblem(t, f.Post([]byte(body), append(sig, "X-Delivery", "d2")...), 401, "unauthorized")
	if f.Col.Distinct() != 1 || f.Rejected("wh", webhook.ReasonReplay) != 1 {
		t.Fatal("replay stored or not counted")
	}
}

func TestConfigValidation(t *testing.T) {
	cases := map[string]string{
		`{"type":"webhook",` + orderMapping + `}`:                                                                                       "auth: required: exactly one",
		`{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":{"type":".[","source":"\"/s\""}}`:                                 "event.type: jq:",
		`{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":{"source":"\"/s\""}}`:                                             "event.type: required",
		`{"type":"webhook","auth":{"hmac":{"secret":"s","header":"X","algorithm":"md5"}},` + orderMapping + `}`:                         "auth.hmac.algorithm",
		`{"type":"webhook","auth":{"hmac":{"secret":"s","header":"X","encoding":"base32"}},` + orderMapping + `}`:                       "auth.hmac.encoding",
		`{"type":"webhook","auth":{"hmac":{"secret":"s","header":"X","timestamp_header":"T","payload":"{body}"}},` + orderMapping + `}`: "auth.hmac.payload",
		`{"type":"webhook","auth":{"hmac":{"secret":"s","header":"X","payload":"{timestamp}{body}"}},` + orderMapping + `}`:             "auth.hmac.payload",
		`{"type":"webhook","auth":{"hmac":{"secret":"s"}},` + orderMapping + `}`:                                                        "auth.hmac.header",
		`{"type":"webhook","auth":{"bearer":{"tokens":["t"]},"basic":{"username":"u","password":"p"}},` + orderMapping + `}`:            "exactly one",
		`{"type":"webhook","auth":{"bearer":{"tokens":[]}},` + orderMapping + `}`:                                                       "auth.bearer.tokens",
		`{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":{"type":"\"t\"","source":"\"/s\"","id":"{","subject":"}"}}`:       "event.id",
	}
	connectortest.WantSourceConfigs(t, cases)
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "wh", `{"type":"webhook","auth":{"hmac":{"secret":"gen-secret","header":"X-Signature"}},`+orderMapping+`}`, col)
	if code, b := webhooktest.Send(t, url, []byte(body), "X-Signature", "1a378efc8ca0a34b933553751f83de9e4b3c1480d2459997b1a0bc3c68ee9de9"); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"type": "com.example.order.paid"})
}

func FuzzRequest(f *testing.F) {
	f.Add([]byte(body), "paid", "d1")
	f.Add([]byte("not json"), "", "")
	f.Add([]byte(`{"order":{"status":{"x":1}}}`), "a b", "\x00")
	f.Fuzz(func(t *testing.T, b []byte, kind, delivery string) {
		fx := newFixture(t, `{"type":"webhook","auth":{"bearer":{"tokens":["t"]}},"event":{"type":".body.order.status // .headers[\"x-kind\"]","source":"\"/s\"","id":".headers[\"x-delivery\"] // null","subject":".body.subject"}}`)
		fx.WantFuzzOutcome(t, fx.Post(b, "Authorization", "Bearer t", "X-Kind", kind, "X-Delivery", delivery))
	})
}
