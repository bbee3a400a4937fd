package github

import (
	"net/http"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// The octokit payload examples map to the documented attributes.
func TestSamples(t *testing.T) {
	cases := []struct {
		file, event string
		want        map[string]string
	}{
		{"testdata/push/payload.json", "push", map[string]string{
			"type": "com.github.push", "source": "https://github.com/Codertocat/Hello-World",
			"subject": "refs/tags/simple-tag", "time": "2024-05-01T12:00:00Z", "datacontenttype": "application/json"}},
		{"testdata/push/with-new-branch.payload.json", "push", map[string]string{
			"type": "com.github.push", "source": "https://github.com/Codertocat/Hello-World", "subject": "refs/heads/master"}},
		{"testdata/push/with-organization.payload.json", "push", map[string]string{
			"type": "com.github.push", "source": "https://github.com/Codertocat/Hello-World", "subject": "refs/tags/simple-tag"}},
		{"testdata/ping/payload.json", "ping", map[string]string{
			"type": "com.github.ping", "source": "https://github.com/Octocoders/Hello-World", "subject": "109948940"}},
		{"testdata/ping/with-organization.payload.json", "ping", map[string]string{
			"type": "com.github.ping", "source": "https://github.com/Octocoders", "subject": "109948940"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f := newFixture(t)
			body := webhooktest.ReadFile(t, c.file)
			const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
			if code := f.deliver(c.event, id, body); code != http.StatusAccepted {
				t.Fatalf("status %d", code)
			}
			e := webhooktest.One(t, f.Col)
			c.want["id"] = id
			webhooktest.WantAttrs(t, e, c.want)
			webhooktest.SameJSON(t, e.Data(), body)
		})
	}
}

// Events with an action, with subject and time from the payload.
func TestActionSubjectTime(t *testing.T) {
	cases := []struct {
		event, body string
		want        map[string]string
	}{
		{"pull_request", `{"action":"opened","number":2,"pull_request":{"updated_at":"2019-05-15T15:20:33Z"},"repository":{"html_url":"https://github.com/o/r"}}`,
			map[string]string{"type": "com.github.pull_request.opened", "subject": "2", "time": "2019-05-15T15:20:33Z"}},
		{"issues", `{"action":"closed","issue":{"number":7,"updated_at":"2020-01-02T03:04:05Z"},"repository":{"html_url":"https://github.com/o/r"}}`,
			map[string]string{"type": "com.github.issues.closed", "subject": "7", "time": "2020-01-02T03:04:05Z"}},
		{"check_run", `{"action":"completed","check_run":{"id":9007199254740993,"completed_at":null,"started_at":"2021-06-01T00:00:00Z"},"repository":{"html_url":"https://github.com/o/r"}}`,
			map[string]string{"type": "com.github.check_run.completed", "subject": "9007199254740993", "time": "2021-06-01T00:00:00Z"}},
		{"star", `{"action":"created","starred_at":null,"sender":{"html_url":"https://github.com/u"}}`,
			map[string]string{"type": "com.github.star.created", "subject": "", "time": "2024-05-01T12:00:00Z", "source": "https://github.com/u"}},
		{"security_advisory", `{"action":"published","security_advisory":{"ghsa_id":"GHSA-xxxx","updated_at":"2022-01-01T00:00:00Z"}}`,
			map[string]string{"type": "com.github.security_advisory.published", "subject": "GHSA-xxxx", "source": "https://github.com"}},
	}
	for _, c := range cases {
		t.Run(c.event, func(t *testing.T) {
			f := newFixture(t)
			if code := f.deliver(c.event, "d-"+c.event, []byte(c.body)); code != http.StatusAccepted {
				t.Fatalf("status %d", code)
			}
			webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), c.want)
		})
	}
}

// Through the registry, on its own listener, over real HTTP.
func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "gh", `{"type":"github","secret":"s3cret"}`, col)
	body := webhooktest.ReadFile(t, "testdata/push/with-new-branch.payload.json")
	code, _ := webhooktest.Send(t, url, body, HeaderEvent, "push", HeaderDelivery, "e2e-1", HeaderSignature, sign(testSecret, body))
	if code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	code, _ = webhooktest.Send(t, url, body, HeaderEvent, "push", HeaderDelivery, "e2e-2", HeaderSignature, sign("wrong", body))
	if code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d", code)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"id": "e2e-1", "type": "com.github.push"})
}
