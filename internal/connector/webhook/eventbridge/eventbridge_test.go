package eventbridge

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// An EC2 state-change event in the EventBridge envelope.
const ec2Event = `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification",
"source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1",
"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111","arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222"],
"detail":{"instance-id":"i-abcd1111","state":"pending"}}`

func newFixture(t testing.TB, cfgJSON string, client *http.Client) *webhooktest.Fixture {
	t.Helper()
	f := webhooktest.NewFixture()
	f.Src = newSource("eb", webhooktest.SourceConfig(t, cfgJSON).(*Config), f.Deps, options{Options: f.Options(), client: client})
	return f
}

func TestEnvelopeMapping(t *testing.T) {
	f := newFixture(t, `{"type":"eventbridge","auth":{"api_key":{"header":"x-api-key","value":"k1"}}}`, nil)
	webhooktest.WantStatus(t, f.Post([]byte(ec2Event), "x-api-key", "k1", "Content-Type", "application/json"), 202)
	e := webhooktest.One(t, f.Col)
	webhooktest.WantAttrs(t, e, map[string]string{
		"id": "7bf73129-1428-4cd3-a780-95db273d1602", "source": "aws.ec2",
		"type":    "aws.ec2.EC2-Instance-State-change-Notification",
		"subject": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111", "time": "2015-11-11T21:29:54Z",
		"detailtype": "EC2 Instance State-change Notification", "account": "123456789012", "region": "us-east-1",
		"resources":       "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111,arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222",
		"datacontenttype": "application/json",
	})
	webhooktest.SameJSON(t, e.Data(), []byte(`{"instance-id":"i-abcd1111","state":"pending"}`))
}

func TestBodies(t *testing.T) {
	const apiKey = `"auth":{"api_key":{"header":"x-api-key","value":"k1"}}`
	cases := []struct {
		name, cfg, body string
		status          int
		want            map[string]string
	}{
		{"cloudevent", `{"type":"eventbridge",` + apiKey + `}`, `{"specversion":"1.0","id":"c1","source":"/app","type":"app.done","data":{"a":1}}`, 202,
			map[string]string{"id": "c1", "type": "app.done"}},
		{"input transformer output, wrapped", `{"type":"eventbridge",` + apiKey + `,"wrap":{"type":"com.example.order","source":"/orders"}}`, `{"order":42}`, 202,
			map[string]string{"type": "com.example.order", "source": "/orders"}},
		{"input transformer output, no wrap", `{"type":"eventbridge",` + apiKey + `}`, `{"order":42}`, 400, nil},
		{"envelope without id", `{"type":"eventbridge",` + apiKey + `}`, `{"detail-type":"x","source":"s","detail":{}}`, 400, nil},
		{"envelope with a bad time", `{"type":"eventbridge",` + apiKey + `}`, `{"id":"1","detail-type":"x","source":"s","time":"2022-04-31T17:00:00Z","detail":{}}`, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.cfg, nil)
			f.WantOutcome(t, f.Post([]byte(c.body), "x-api-key", "k1"), c.status, c.want)
		})
	}
}

func TestStaticCredentials(t *testing.T) {
	basic := func(u, p string) string {
		r := httptest.NewRequest("POST", "/", nil)
		r.SetBasicAuth(u, p)
		return r.Header.Get("Authorization")
	}
	cases := []struct {
		name, cfg string
		headers   []string
		status    int
		reason    string
	}{
		{"basic", `{"basic":{"username":"eb","password":"pw"}}`, []string{"Authorization", basic("eb", "pw")}, 202, ""},
		{"basic, wrong password", `{"basic":{"username":"eb","password":"pw"}}`, []string{"Authorization", basic("eb", "px")}, 401, webhook.ReasonSignature},
		{"basic, none", `{"basic":{"username":"eb","password":"pw"}}`, nil, 401, webhook.ReasonMissing},
		{"api key", `{"api_key":{"header":"X-Api-Key","value":"k1"}}`, []string{"x-api-key", "k1"}, 202, ""},
		{"api key, wrong", `{"api_key":{"header":"X-Api-Key","value":"k1"}}`, []string{"x-api-key", "k2"}, 401, webhook.ReasonSignature},
		{"api key, in another header", `{"api_key":{"header":"X-Api-Key","value":"k1"}}`, []string{"x-other", "k1"}, 401, webhook.ReasonMissing},
		{"oauth token", `{"oauth":{"tokens":["t1","t2"]}}`, []string{"Authorization", "Bearer t2"}, 202, ""},
		{"oauth token, wrong", `{"oauth":{"tokens":["t1","t2"]}}`, []string{"Authorization", "Bearer t3"}, 401, webhook.ReasonSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, `{"type":"eventbridge","auth":`+c.cfg+`}`, nil)
			w := f.Post([]byte(ec2Event), c.headers...)
			if c.status == 202 {
				webhooktest.WantStatus(t, w, 202)
				return
			}
			f.WantUnauthorized(t, w, "eb", c.reason)
		})
	}
}

// A fake authorization server (RFC 7662) on loopback: "good" is active
// until T0+1h, "old" expired, anything else inactive; "down" makes it fail.
func introspectionServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if id, secret, _ := r.BasicAuth(); id != "eventbridge" || secret != "cs" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		switch r.Form.Get("token") {
		case "good":
			fmt.Fprintf(w, `{"active":true,"exp":%d}`, webhooktest.T0.Add(time.Hour).Unix())
		case "short":
			fmt.Fprintf(w, `{"active":true,"exp":%d}`, webhooktest.T0.Add(2*time.Minute).Unix())
		case "old":
			fmt.Fprintf(w, `{"active":true,"exp":%d}`, webhooktest.T0.Add(-time.Second).Unix())
		case "down":
			http.Error(w, "maintenance", http.StatusBadGateway)
		default:
			fmt.Fprint(w, `{"active":false}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestIntrospection(t *testing.T) {
	srv, calls := introspectionServer(t)
	cfg := fmt.Sprintf(`{"type":"eventbridge","auth":{"oauth":{"introspection":{"url":%q,"client_id":"eventbridge","client_secret":"cs","cache":"5m"}}}}`, srv.URL)
	f := newFixture(t, cfg, srv.Client())
	post := func(tok string) *httptest.ResponseRecorder {
		return f.Post([]byte(ec2Event), "Authorization", "Bearer "+tok)
	}
	webhooktest.WantStatus(t, post("good"), 202)
	webhooktest.WantStatus(t, post("good"), 202)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d introspection calls, want 1 (cached)", n)
	}
	f.Clock.Advance(6 * time.Minute) // past the cache
	webhooktest.WantStatus(t, post("good"), 202)
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d introspection calls after the cache expired, want 2", n)
	}
	webhooktest.WantProblem(t, post("nope"), 401, "unauthorized")
	webhooktest.WantProblem(t, post("old"), 401, "unauthorized")
	if f.Rejected("eb", webhook.ReasonStale) != 1 {
		t.Fatal("expired token not counted as stale")
	}
	w := post("down")
	webhooktest.WantProblem(t, w, 503, "unavailable")
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	webhooktest.WantProblem(t, f.Post([]byte(ec2Event)), 401, "unauthorized")
	if f.Col.Count() != 3 {
		t.Fatalf("%d stored, want 3", f.Col.Count())
	}
}

// A token is trusted from the cache no longer than its exp.
func TestIntrospectionCacheEndsAtExpiry(t *testing.T) {
	srv, calls := introspectionServer(t)
	cfg := fmt.Sprintf(`{"type":"eventbridge","auth":{"oauth":{"introspection":{"url":%q,"client_id":"eventbridge","client_secret":"cs","cache":"5m"}}}}`, srv.URL)
	f := newFixture(t, cfg, srv.Client())
	webhooktest.WantStatus(t, f.Post([]byte(ec2Event), "Authorization", "Bearer short"), 202)
	f.Clock.Advance(3 * time.Minute)
	webhooktest.WantProblem(t, f.Post([]byte(ec2Event), "Authorization", "Bearer short"), 401, "unauthorized")
	if calls.Load() != 2 {
		t.Fatalf("%d calls: the expired token was trusted from the cache", calls.Load())
	}
}

func TestConfigValidation(t *testing.T) {
	cases := map[string]string{
		`{"type":"eventbridge"}`: "auth: required: exactly one",
		`{"type":"eventbridge","auth":{"basic":{"username":"a","password":"b"},"api_key":{"header":"h","value":"v"}}}`: "exactly one",
		`{"type":"eventbridge","auth":{"api_key":{"header":"Authorization","value":"v"}}}`:                             "auth.api_key.header",
		`{"type":"eventbridge","auth":{"api_key":{"header":"a b","value":"v"}}}`:                                       "auth.api_key.header",
		`{"type":"eventbridge","auth":{"oauth":{}}}`:                                                                   "either tokens or introspection",
		`{"type":"eventbridge","auth":{"oauth":{"introspection":{"url":"http://auth.example.com/i"}}}}`:                "introspection.url",
		`{"type":"eventbridge","auth":{"oauth":{"tokens":["t"]}},"wrap":{"type":"x"}}`:                                 "wrap.source",
		`{"type":"eventbridge","auth":{"oauth":{"introspection":{"url":"https://id:pw@auth.example.com/i"}}}}`:         "introspection.url: must not hold a user name or password",
	}
	connectortest.WantSourceConfigs(t, cases)
}

func TestMethods(t *testing.T) {
	f := newFixture(t, `{"type":"eventbridge","auth":{"api_key":{"header":"x-api-key","value":"k1"}}}`, nil)
	webhooktest.WantStatus(t, webhooktest.Do(f.Src, http.MethodPut, []byte(ec2Event), "x-api-key", "k1"), 202)
	webhooktest.WantProblem(t, webhooktest.Do(f.Src, http.MethodGet, nil), 405, "method-not-allowed")
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "eb", `{"type":"eventbridge","auth":{"api_key":{"header":"x-api-key","value":"k1"}}}`, col)
	if code, b := webhooktest.Send(t, url, []byte(ec2Event), "x-api-key", "k1", "User-Agent", "Amazon/EventBridge/ApiDestinations"); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"source": "aws.ec2", "region": "us-east-1"})
}

func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(ec2Event))
	f.Add([]byte(`{"id":"1","detail-type":"\u0000","source":"a b","detail":null,"resources":["x\u0001"]}`))
	f.Add([]byte(`{"id":"1","detail-type":"Scheduled Event","source":"aws.events","detail":{},"resources":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, `{"type":"eventbridge","auth":{"api_key":{"header":"x-api-key","value":"k1"}}}`, nil)
		fx.WantFuzzOutcome(t, fx.Post(body, "x-api-key", "k1"))
	})
}

// TestIntrospectionGuarded: a source created through the API (Deps.Guard
// set) may not ask a loopback introspection endpoint; the request is
// answered 503 and nothing reaches the endpoint.
func TestIntrospectionGuarded(t *testing.T) {
	srv, calls := introspectionServer(t)
	cfgJSON := fmt.Sprintf(`{"type":"eventbridge","auth":{"oauth":{"introspection":{"url":%q,"client_id":"eventbridge","client_secret":"cs"}}}}`,
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))
	f := webhooktest.NewFixture()
	f.Deps.Guard = netguard.Strict
	f.Src = newSource("eb", webhooktest.SourceConfig(t, cfgJSON).(*Config), f.Deps, options{Options: f.Options()})
	webhooktest.WantProblem(t, f.Post([]byte(ec2Event), "Authorization", "Bearer good"), 503, "unavailable")
	if n := calls.Load(); n != 0 || f.Col.Count() != 0 {
		t.Fatalf("%d introspection calls reached the loopback endpoint, %d events stored", n, f.Col.Count())
	}
}
