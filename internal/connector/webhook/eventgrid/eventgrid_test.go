package eventgrid

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newFixture(t testing.TB, cfgJSON string) *webhooktest.Fixture {
	t.Helper()
	f := webhooktest.NewFixture()
	f.Src = newSource("eg", webhooktest.SourceConfig(t, cfgJSON).(*Config), f.Deps, f.Options())
	return f
}

const plain = `{"type":"azure-eventgrid"}`

// The validation handshake answers exactly the documented body, stores
// nothing, and needs no key (it only grants consent).
func TestSubscriptionValidation(t *testing.T) {
	body := webhooktest.ReadFile(t, "testdata/subscription-validation-event.json")
	want := webhooktest.ReadFile(t, "testdata/subscription-validation-expected-response.json")
	for _, hdr := range [][]string{
		{"aeg-event-type", "SubscriptionValidation", "Content-Type", "application/json"},
		{"Content-Type", "application/json; charset=utf-8"},
	} {
		f := newFixture(t, `{"type":"azure-eventgrid","key":"k"}`)
		w := f.Post(body, hdr...)
		webhooktest.WantStatus(t, w, http.StatusOK)
		if !bytes.Equal(w.Body.Bytes(), want) {
			t.Fatalf("answer\n%q\nwant exactly\n%q", w.Body.Bytes(), want)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q", ct)
		}
		if f.Col.Count() != 0 {
			t.Fatal("the validation event was stored")
		}
	}
	f := newFixture(t, plain)
	w := f.Post([]byte(`[{"id":"1","topic":"/t","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{}}]`))
	webhooktest.WantProblem(t, w, 400, "invalid-request")
}

func TestOptionsHandshake(t *testing.T) {
	f := newFixture(t, `{"type":"azure-eventgrid","allowed_origins":["eventgrid.azure.net"],"allowed_rate":"120"}`)
	w := webhooktest.Do(f.Src, http.MethodOptions, nil, "WebHook-Request-Origin", "eventgrid.azure.net")
	webhooktest.WantStatus(t, w, http.StatusOK)
	if w.Header().Get("WebHook-Allowed-Origin") != "eventgrid.azure.net" || w.Header().Get("WebHook-Allowed-Rate") != "120" {
		t.Fatalf("headers %v", w.Header())
	}
	w = webhooktest.Do(f.Src, http.MethodOptions, nil, "WebHook-Request-Origin", "evil.example.com")
	webhooktest.WantStatus(t, w, http.StatusOK)
	if w.Header().Get("WebHook-Allowed-Origin") != "" {
		t.Fatal("consent given to an origin not allowed")
	}
	w = webhooktest.Do(newFixture(t, plain).Src, http.MethodOptions, nil, "WebHook-Request-Origin", "eventgrid.azure.net")
	if w.Header().Get("WebHook-Allowed-Origin") != "eventgrid.azure.net" || w.Header().Get("WebHook-Allowed-Rate") != "*" {
		t.Fatalf("default: %v", w.Header())
	}
}

func TestEventGridSchema(t *testing.T) {
	f := newFixture(t, plain)
	body := webhooktest.ReadFile(t, "testdata/StorageBlobCreatedEvent.json")
	webhooktest.WantStatus(t, f.Post(body, "aeg-event-type", "Notification", "Content-Type", "application/json"), 202)
	e := webhooktest.One(t, f.Col)
	webhooktest.WantAttrs(t, e, map[string]string{
		"id":              "602a88ef-0001-00e6-1233-1646070610ea",
		"source":          "/subscriptions/319a9601-1ec0-0000-aebc-8fe82724c81e/resourceGroups/testrg/providers/Microsoft.Storage/storageAccounts/myaccount",
		"type":            "Microsoft.Storage.BlobCreated",
		"subject":         "/blobServices/default/containers/testcontainer/blobs/file1.txt",
		"time":            "2017-08-16T01:57:26.005121Z",
		"datacontenttype": "application/json",
		"dataversion":     "",
	})
	var data map[string]any
	if err := json.Unmarshal(e.Data(), &data); err != nil || data["url"] != "https://myaccount.blob.core.windows.net/testcontainer/file1.txt" {
		t.Fatalf("data %s", e.Data())
	}
}

// A batch with a repeated event: every entry is stored, the repeat under
// the same (source, id), which the bus keeps once.
func TestBatch(t *testing.T) {
	f := newFixture(t, plain)
	webhooktest.WantStatus(t, f.Post(webhooktest.ReadFile(t, "testdata/MultipleEventsInSameBatch.json")), 202)
	if f.Col.Count() != 4 || f.Col.Distinct() != 3 {
		t.Fatalf("count %d distinct %d", f.Col.Count(), f.Col.Distinct())
	}
	last := f.Col.Events()[3]
	webhooktest.WantAttrs(t, last, map[string]string{"type": "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners", "dataversion": "1", "subject": "topics/topic1/subscriptions/sub1"})
	if webhooktest.Received(f.Deps, "eg") != 4 {
		t.Fatal("received metric")
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	f := newFixture(t, plain)
	body := []byte(`[{"id":"1","topic":"/t","eventType":"a","data":{}},{"id":"2","eventType":"b"},{"specversion":"1.0","id":"3","source":"/s"}]`)
	w := f.Post(body)
	p := webhooktest.WantProblem(t, w, 400, "invalid-batch")
	if f.Col.Count() != 0 {
		t.Fatal("part of a bad batch was stored")
	}
	idx := map[int]bool{}
	for _, e := range p.Errors {
		idx[*e.Index] = true
	}
	if !idx[1] || !idx[2] || idx[0] {
		t.Fatalf("errors %+v", p.Errors)
	}
}

func TestCloudEventsSchema(t *testing.T) {
	f := newFixture(t, plain)
	body := webhooktest.ReadFile(t, "testdata/cloudevents-schema-blob-created.json")
	// As documented, the source holds {placeholders}: no URI.
	w := f.Post(body, "Content-Type", "application/cloudevents+json; charset=utf-8")
	p := webhooktest.WantProblem(t, w, 400, "invalid-event")
	if len(p.Errors) != 1 || p.Errors[0].Field != "source" {
		t.Fatalf("errors %+v", p.Errors)
	}
	filled := strings.NewReplacer("{subscription-id}", "319a9601-1ec0-0000-aebc-8fe82724c81e", "{resource-group}", "testrg",
		"{storage-account}", "myaccount", "{storage-container}", "c", "{new-file}", "a.png").Replace(string(body))
	w = f.Post([]byte(filled), "Content-Type", "application/cloudevents+json; charset=utf-8")
	webhooktest.WantStatus(t, w, 202)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{
		"id": "9aeb0fdf-c01e-0131-0922-9eb54906e209", "type": "Microsoft.Storage.BlobCreated",
		"subject": "blobServices/default/containers/c/blobs/a.png", "time": "2019-11-18T15:13:39.4589254Z",
	})
	// The same as a one-entry batch.
	f = newFixture(t, plain)
	w = f.Post([]byte("["+filled+"]"), "Content-Type", "application/cloudevents-batch+json; charset=utf-8")
	webhooktest.WantStatus(t, w, 202)
	webhooktest.One(t, f.Col)
}

func TestCloudEventsArray(t *testing.T) {
	f := newFixture(t, plain)
	webhooktest.WantStatus(t, f.Post(webhooktest.ReadFile(t, "testdata/CloudEventBinaryData.json")), 202)
	e := webhooktest.One(t, f.Col)
	webhooktest.WantAttrs(t, e, map[string]string{"id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "source": "contoso/items", "foo": "bar", "subject": ""})
	if !e.DataBase64 || len(e.Data()) == 0 {
		t.Fatalf("data_base64 lost: %v", e)
	}
}

func TestKey(t *testing.T) {
	body := webhooktest.ReadFile(t, "testdata/StorageBlobCreatedEvent.json")
	for _, c := range []struct {
		headers []string
		status  int
		reason  string
	}{
		{[]string{"X-Grid-Key", "k1"}, 202, ""},
		{[]string{"X-Grid-Key", "k2"}, 401, webhook.ReasonSignature},
		{[]string{"aeg-sas-key", "k1"}, 401, webhook.ReasonMissing},
		{nil, 401, webhook.ReasonMissing},
	} {
		f := newFixture(t, `{"type":"azure-eventgrid","key":"k1","key_header":"X-Grid-Key"}`)
		w := f.Post(body, c.headers...)
		if c.status == 202 {
			webhooktest.WantStatus(t, w, 202)
			continue
		}
		f.WantUnauthorized(t, w, "eg", c.reason)
	}
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "eg", `{"type":"azure-eventgrid","key":"k1"}`, col)
	code, b := webhooktest.Send(t, url, webhooktest.ReadFile(t, "testdata/subscription-validation-event.json"), "aeg-event-type", "SubscriptionValidation")
	if code != 200 || !strings.Contains(string(b), "512d38b6-c7b8-40c8-89fe-f46f9e9622b6") {
		t.Fatalf("%d %s", code, b)
	}
	if code, b := webhooktest.Send(t, url, webhooktest.ReadFile(t, "testdata/MultipleEventsInSameBatch.json"), "aeg-sas-key", "k1"); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	if col.Count() != 4 {
		t.Fatalf("%d stored", col.Count())
	}
}

func FuzzDelivery(f *testing.F) {
	for _, p := range []string{"StorageBlobCreatedEvent.json", "MultipleEventsInSameBatch.json", "CloudEventBinaryData.json", "subscription-validation-event.json"} {
		f.Add(webhooktest.ReadFile(f, "testdata/"+p), "application/json")
	}
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`), "application/cloudevents+json")
	f.Add([]byte(`[]`), "application/cloudevents-batch+json")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		fx := newFixture(t, plain)
		w := fx.Post(body, "Content-Type", ct)
		switch w.Code {
		case 200:
			if fx.Col.Count() != 0 {
				t.Fatal("validation stored events")
			}
		case 202:
			for _, e := range fx.Col.Events() {
				if err := ebevent.Validate(e); err != nil {
					t.Fatal(err)
				}
			}
		case 400:
			if fx.Col.Count() != 0 {
				t.Fatal("refused but stored")
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
