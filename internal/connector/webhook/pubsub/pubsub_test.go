package pubsub

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// The push requests of Google's docs and examples decode to the right data
// and attributes.
func TestPushSamples(t *testing.T) {
	cases := []struct {
		file string
		data []byte
		want map[string]string
	}{
		{"testdata/push-request-docs-example.json", []byte("Hello Cloud Pub/Sub! Here is my message!"), map[string]string{
			"id": "2070443601311540", "type": "google.cloud.pubsub.topic.v1.messagePublished",
			"source": "//pubsub.googleapis.com/projects/myproject/subscriptions/mysubscription",
			"time":   "2021-02-26T19:13:55.749Z", "key": "value", "datacontenttype": "text/plain; charset=utf-8",
		}},
		{"testdata/MessagePublishedData-simple.json", []byte{1, 2, 3, 4}, map[string]string{
			"id": "message-id", "source": "//pubsub.googleapis.com/projects/test-project/subscriptions/my-subscription",
			"time": "2021-02-05T04:06:14.109Z", "datacontenttype": "application/octet-stream", "orderingkey": "",
		}},
		{"testdata/MessagePublishedData-complex.json", []byte("test message 3"), map[string]string{
			"id": "message-id", "attr1": "attr1-value", "orderingkey": "ordering-key",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f := newFixture(t, &Config{})
			webhooktest.WantStatus(t, f.Post(webhooktest.ReadFile(t, c.file), "Content-Type", "application/json"), http.StatusAccepted)
			e := webhooktest.One(t, f.Col)
			webhooktest.WantAttrs(t, e, c.want)
			if string(e.Data()) != string(c.data) {
				t.Fatalf("data %q, want %q", e.Data(), c.data)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	f := newFixture(t, &Config{Source: "//pubsub.googleapis.com/projects/p/topics/orders", EventType: "com.example.order", SubjectAttribute: "orderId"})
	body := pushBody("42", []byte(`{"total":3}`), map[string]string{"orderId": "o-7", "Region-Name": "eu", "id": "ignored", "x-y": "1", "xy": "2"})
	webhooktest.WantStatus(t, f.Post(body), 202)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{
		"source": "//pubsub.googleapis.com/projects/p/topics/orders", "type": "com.example.order", "subject": "o-7",
		"regionname": "eu", "datacontenttype": "application/json", "id": "42", "xy": "1",
	})
}

// A message that is a CloudEvent is that event: structured (its data is
// the JSON format) or binary (ce- attributes, per the Pub/Sub binding).
func TestMessagesThatAreCloudEvents(t *testing.T) {
	structured := webhooktest.ReadFile(t, "testdata/structured-MessagePublishedData.json")
	cases := []struct {
		name string
		body []byte
		want map[string]string
	}{
		{"structured", pushBody("m1", structured, nil), map[string]string{
			"id": "3103425958877813", "source": "//pubsub.googleapis.com/projects/test-project/topics/my-topic",
			"type": "google.cloud.pubsub.topic.v1.messagePublished", "time": "2021-02-05T04:06:14.109Z",
		}},
		{"structured, by content type", pushBody("m1", structured, map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8"}), map[string]string{
			"id": "3103425958877813",
		}},
		{"binary", pushBody("m2", []byte(`{"n":1}`), map[string]string{
			"ce-specversion": "1.0", "ce-id": "1234-1234-1234", "ce-source": "/mycontext/subcontext",
			"ce-type": "com.example.someevent", "ce-time": "2020-03-10T03:56:24Z", "Content-Type": "application/json; charset=utf-8", "ce-myext": "v",
		}), map[string]string{
			"id": "1234-1234-1234", "source": "/mycontext/subcontext", "type": "com.example.someevent",
			"datacontenttype": "application/json; charset=utf-8", "myext": "v",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, &Config{})
			webhooktest.WantStatus(t, f.Post(c.body), 202)
			webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), c.want)
		})
	}
	f := newFixture(t, &Config{})
	bad := pushBody("m3", []byte(`{"x":1}`), map[string]string{"ce-specversion": "1.0", "ce-id": "1"})
	webhooktest.WantProblem(t, f.Post(bad), 400, "invalid-event")
}

func TestUnwrapped(t *testing.T) {
	f := newFixture(t, &Config{Unwrapped: true, Source: "//pubsub.googleapis.com/projects/p/subscriptions/s"})
	w := f.Post([]byte(`{"a":1}`), "Content-Type", "application/json",
		"x-goog-pubsub-message-id", "777", "x-goog-pubsub-publish-time", "2024-01-01T00:00:00Z", "x-goog-pubsub-ordering-key", "k")
	webhooktest.WantStatus(t, w, 202)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{
		"id": "777", "time": "2024-01-01T00:00:00Z", "orderingkey": "k", "datacontenttype": "application/json",
		"source": "//pubsub.googleapis.com/projects/p/subscriptions/s",
	})
	// Without write metadata: a fresh id each time.
	f = newFixture(t, &Config{Unwrapped: true, Source: "/s"})
	for range 2 {
		webhooktest.WantStatus(t, f.Post([]byte("plain")), 202)
	}
	if f.Col.Distinct() != 2 {
		t.Fatal("two deliveries without ids share one")
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, &Config{})
	for _, body := range []string{
		`{}`, `{"message":{"data":"AQ=="}}`, `{"message":{"messageId":"1","data":"***"}}`,
		`{"message":{"messageId":"1","publishTime":"yesterday"},"subscription":"s"}`,
		`{"message":{"messageId":"1"}}`, `[]`,
	} {
		webhooktest.WantProblem(t, f.Post([]byte(body)), 400, "invalid-request")
	}
	if f.Col.Count() != 0 {
		t.Fatal("stored")
	}
}

func TestRetryIsStoredOnce(t *testing.T) {
	f := newFixture(t, &Config{})
	body := webhooktest.ReadFile(t, "testdata/push-request-docs-example.json")
	f.Col.Fail(1)
	webhooktest.WantProblem(t, f.Post(body), 503, "unavailable")
	for range 2 {
		webhooktest.WantStatus(t, f.Post(body), 202)
	}
	if f.Col.Distinct() != 1 {
		t.Fatalf("%d distinct", f.Col.Distinct())
	}
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "ps", `{"type":"gcp-pubsub"}`, col)
	if code, b := webhooktest.Send(t, url, webhooktest.ReadFile(t, "testdata/MessagePublishedData-complex.json")); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"attr1": "attr1-value"})
}

func FuzzPush(f *testing.F) {
	for _, p := range []string{"push-request-docs-example.json", "MessagePublishedData-simple.json", "MessagePublishedData-complex.json"} {
		f.Add(webhooktest.ReadFile(f, "testdata/"+p))
	}
	f.Add(pushBody("1", webhooktest.ReadFile(f, "testdata/structured-MessagePublishedData.json"), map[string]string{"ce-x": "y"}))
	f.Add([]byte(`{"message":{"messageId":"1","attributes":{"ce-specversion":"1.0","Data":"x","":""}},"subscription":"a b"}`))
	f.Add([]byte(`{"message":{"message_id":"1","data":"` + base64.StdEncoding.EncodeToString([]byte{0xff}) + `"},"subscription":"s"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, &Config{})
		fx.WantFuzzOutcome(t, fx.Post(body))
	})
}
