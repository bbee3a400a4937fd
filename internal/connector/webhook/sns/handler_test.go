package sns

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// resign signs a documented message again, with the test key.
func resign(t testing.TB, body []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "SigningCertURL")
	return sign(t, testPKI(t).key, m, "1")
}

// The documented requests, signed, map as the CloudEvents SNS adapter says.
func TestDocumentedRequests(t *testing.T) {
	cases := []struct {
		file string
		want map[string]string
	}{
		{"testdata/notification.txt", map[string]string{
			"id": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "type": "com.amazonaws.sns.Notification",
			"source":  "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96",
			"subject": "My First Message", "time": "2012-05-02T00:54:06.655Z", "datacontenttype": "application/json",
		}},
		{"testdata/subscription-confirmation.txt", map[string]string{
			"id": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "type": "com.amazonaws.sns.SubscriptionConfirmation",
			"source": "arn:aws:sns:us-west-2:123456789012:MyTopic", "subject": "", "time": "2012-04-26T20:45:04.751Z",
		}},
		{"testdata/unsubscribe-confirmation.txt", map[string]string{
			"id": "47138184-6831-46b8-8f7c-afc488602d7d", "type": "com.amazonaws.sns.UnsubscribeConfirmation",
			"source": "arn:aws:sns:us-west-2:123456789012:MyTopic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f := newFixture(t, &Config{})
			hd, body := readDocRequest(t, c.file)
			signed := resign(t, body)
			var hdr []string
			for k := range hd {
				if k != "Content-Length" && k != "Host" {
					hdr = append(hdr, k, hd.Get(k))
				}
			}
			webhooktest.WantStatus(t, f.Post(signed, hdr...), http.StatusAccepted)
			e := webhooktest.One(t, f.Col)
			webhooktest.WantAttrs(t, e, c.want)
			webhooktest.SameJSON(t, e.Data(), signed)
		})
	}
}

func TestAutoConfirm(t *testing.T) {
	_, body := readDocRequest(t, "testdata/subscription-confirmation.txt")
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	subscribe := m["SubscribeURL"].(string)

	f := newFixture(t, &Config{AutoConfirm: true})
	f.aws.pages[subscribe] = []byte("<ConfirmSubscriptionResponse/>")
	w := f.Post(resign(t, body), "x-amz-sns-message-type", TypeSubscription)
	webhooktest.WantStatus(t, w, http.StatusOK)
	if f.Col.Count() != 0 {
		t.Fatal("a confirmed subscription was stored as an event")
	}
	if seen := f.aws.seen(); len(seen) != 2 || seen[1] != "GET "+subscribe {
		t.Fatalf("requests %v", seen)
	}

	// SNS failing to confirm: try again later.
	f = newFixture(t, &Config{AutoConfirm: true})
	f.aws.status[subscribe] = http.StatusBadGateway
	webhooktest.WantProblem(t, f.Post(resign(t, body)), 503, "unavailable")

	// A SubscribeURL elsewhere is never visited, signed or not.
	f = newFixture(t, &Config{AutoConfirm: true})
	m["SubscribeURL"] = "https://evil.example/confirm"
	delete(m, "SigningCertURL")
	webhooktest.WantProblem(t, f.Post(sign(t, f.pki.key, m, "2")), 400, "invalid-request")
	for _, r := range f.aws.seen() {
		if strings.Contains(r, "evil") {
			t.Fatalf("visited %s", r)
		}
	}
}

func TestTopicAllowList(t *testing.T) {
	f := newFixture(t, &Config{TopicARNs: []string{"arn:aws:sns:us-west-2:123456789012:Other"}})
	w := f.Post(sign(t, f.pki.key, notification("m1", "hi"), "1"))
	webhooktest.WantProblem(t, w, http.StatusForbidden, "forbidden")
	if len(f.aws.seen()) != 0 || f.Col.Count() != 0 {
		t.Fatal("a foreign topic's certificate was fetched, or its message stored")
	}
	f = newFixture(t, &Config{TopicARNs: []string{"arn:aws:sns:us-west-2:123456789012:MyTopic"}})
	webhooktest.WantStatus(t, f.Post(sign(t, f.pki.key, notification("m1", "hi"), "1")), 202)
}

func TestUnwrap(t *testing.T) {
	ceMsg := `{"specversion":"1.0","id":"inner-1","source":"/orders","type":"com.example.order.created","data":{"n":1}}`
	ebMsg := `{"version":"0","id":"eb-1","detail-type":"Order Created","source":"com.example.orders","account":"123456789012","time":"2024-05-01T00:00:00Z","region":"eu-west-1","resources":[],"detail":{"n":1}}`
	cases := []struct {
		name   string
		unwrap bool
		msg    string
		want   map[string]string
	}{
		{"cloudevent", true, ceMsg, map[string]string{"id": "inner-1", "type": "com.example.order.created", "source": "/orders"}},
		{"eventbridge event", true, ebMsg, map[string]string{"id": "eb-1", "type": "com.example.orders.Order-Created", "region": "eu-west-1"}},
		{"plain text", true, "hello", map[string]string{"id": "m1", "type": "com.amazonaws.sns.Notification"}},
		{"unwrap off", false, ceMsg, map[string]string{"id": "m1", "type": "com.amazonaws.sns.Notification"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unwrap := c.unwrap
			f := newFixture(t, &Config{Unwrap: &unwrap})
			if code := f.post(sign(t, f.pki.key, notification("m1", c.msg), "2"), TypeNotification); code != 202 {
				t.Fatalf("status %d", code)
			}
			webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), c.want)
		})
	}
	f := newFixture(t, &Config{})
	bad := `{"specversion":"1.0","id":"x"}`
	webhooktest.WantProblem(t, f.Post(sign(t, f.pki.key, notification("m1", bad), "2")), 400, "invalid-event")
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, &Config{})
	signed := sign(t, f.pki.key, notification("m1", "hi"), "1")
	webhooktest.WantProblem(t, f.Post([]byte("hi"), HeaderRawDelivery, "true"), 401, "unauthorized")
	if f.Rejected("sns", webhook.ReasonMissing) != 1 {
		t.Fatal("raw delivery not counted")
	}
	webhooktest.WantProblem(t, f.Post(signed, HeaderMessageType, TypeSubscription), 400, "invalid-request")
	webhooktest.WantProblem(t, f.Post([]byte(`{"Type":"Other","MessageId":"1","TopicArn":"t"}`)), 400, "invalid-request")
	webhooktest.WantProblem(t, f.Post([]byte(`not json`)), 400, "invalid-request")
	if f.Col.Count() != 0 {
		t.Fatal("stored")
	}
}

// SNS retries keep the MessageId: stored once. The same signed message
// under another subscription ARN is a replay.
func TestRetryAndReplay(t *testing.T) {
	f := newFixture(t, &Config{})
	signed := sign(t, f.pki.key, notification("m1", "hi"), "1")
	for range 2 {
		if code := f.post(signed, TypeNotification); code != 202 {
			t.Fatalf("status %d", code)
		}
	}
	if f.Col.Distinct() != 1 {
		t.Fatalf("%d distinct", f.Col.Distinct())
	}
	w := f.Post(signed, HeaderSubscriptionArn, "arn:aws:sns:us-west-2:123456789012:MyTopic:00000000-0000-0000-0000-000000000000")
	webhooktest.WantProblem(t, w, 401, "unauthorized")
	if f.Rejected("sns", webhook.ReasonReplay) != 1 {
		t.Fatal("replay not counted")
	}
	// A subscription ARN of another topic is not taken as the source.
	f = newFixture(t, &Config{})
	webhooktest.WantStatus(t, f.Post(signed, HeaderSubscriptionArn, "arn:aws:sns:us-west-2:999999999999:Else:x"), 202)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{"source": "arn:aws:sns:us-west-2:123456789012:MyTopic"})
}

// Through the registry, on its own listener: the certificate host check
// refuses before anything leaves the machine, so no test hook is needed
// to prove that a foreign certificate URL is not fetched.
func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "sns", `{"type":"aws-sns","topic_arns":["arn:aws:sns:us-west-2:123456789012:MyTopic"]}`, col)
	m := notification("m1", "hi")
	m["SigningCertURL"] = "https://127.0.0.1:1/cert.pem"
	code, _ := webhooktest.Send(t, url, sign(t, testPKI(t).key, m, "1"), "Content-Type", "text/plain; charset=UTF-8")
	if code != 401 || col.Count() != 0 {
		t.Fatalf("status %d", code)
	}
	m = notification("m2", "hi")
	m["TopicArn"] = "arn:aws:sns:us-west-2:123456789012:Other"
	if code, _ := webhooktest.Send(t, url, sign(t, testPKI(t).key, m, "1")); code != 403 {
		t.Fatalf("foreign topic: %d", code)
	}
}

// FuzzMessage signs arbitrary field values (so that mapping and unwrapping
// are reached) and also sends the raw bytes (so that parsing is): no
// panic; 202 stores a valid event; refusals store nothing.
func FuzzMessage(f *testing.F) {
	f.Add("Notification", "hello", "subj", "2012-05-02T00:54:06.655Z", []byte(`{}`))
	f.Add("Notification", `{"specversion":"1.0","id":"1","source":"/s","type":"t"}`, "", "x", []byte(`{"Type":"Notification"}`))
	f.Add("SubscriptionConfirmation", `{"detail-type":"a","detail":null,"id":"1","source":"s"}`, "", "2012-05-02T00:54:06Z", []byte(`[]`))
	f.Add("UnsubscribeConfirmation", "\u0000", "\u0001", "", []byte(`{"Type":"Notification","MessageId":"1","TopicArn":"t","SignatureVersion":"1","Signature":"AA==","SigningCertURL":"https://sns.a.amazonaws.com/x"}`))
	f.Fuzz(func(t *testing.T, typ, msg, subject, ts string, raw []byte) {
		fx := newFixture(t, &Config{})
		m := notification("m1", msg)
		m["Type"], m["Subject"], m["Timestamp"] = typ, subject, ts
		if typ != TypeNotification {
			delete(m, "Subject")
			m["Token"], m["SubscribeURL"] = "tok", "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription"
		}
		for _, body := range [][]byte{sign(t, fx.pki.key, m, "2"), raw} {
			before := fx.Col.Count()
			w := fx.Post(body)
			switch w.Code {
			case 202:
				evs := fx.Col.Events()
				if len(evs) != before+1 {
					t.Fatalf("202 but %d stored", len(evs)-before)
				}
				if err := ebevent.Validate(evs[len(evs)-1]); err != nil {
					t.Fatal(err)
				}
			case 400, 401:
				if fx.Col.Count() != before {
					t.Fatal("refused but stored")
				}
			default:
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
