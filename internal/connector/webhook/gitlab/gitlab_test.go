package gitlab

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "glpat-not-a-real-one"

func newFixture() *webhooktest.Fixture {
	c := &Config{Secret: token}
	c.Defaults()
	f := webhooktest.NewFixture()
	f.Src = newSource("gl", c, f.Deps, f.Options())
	return f
}

func TestToken(t *testing.T) {
	body := []byte(`{"object_kind":"push","checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","repository":{"homepage":"http://example.com/mike/diaspora"}}`)
	cases := []struct {
		name    string
		headers []string
		status  int
		reason  string
	}{
		{"right token", []string{HeaderToken, token, HeaderEvent, "Push Hook"}, 202, ""},
		{"wrong token", []string{HeaderToken, token + "x", HeaderEvent, "Push Hook"}, 401, webhook.ReasonSignature},
		{"no token", []string{HeaderEvent, "Push Hook"}, 401, webhook.ReasonMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture()
			w := f.Post(body, c.headers...)
			if c.status != 202 {
				f.WantUnauthorized(t, w, "gl", c.reason)
				return
			}
			webhooktest.WantStatus(t, w, c.status)
		})
	}
}

func TestMapping(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		body    string
		want    map[string]string
	}{
		{"push", []string{HeaderIdempotency, "idem-1", HeaderEventUUID, "uuid-1"},
			`{"object_kind":"push","checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","repository":{"homepage":"http://example.com/mike/diaspora"}}`,
			map[string]string{"id": "idem-1", "type": "com.gitlab.push", "source": "http://example.com/mike/diaspora", "subject": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "time": "2024-05-01T12:00:00Z"}},
		{"tag push", []string{HeaderEventUUID, "uuid-2"},
			`{"object_kind":"tag_push","ref":"refs/tags/v1.0.0","repository":{"homepage":"http://example.com/jsmith/example"}}`,
			map[string]string{"id": "uuid-2", "type": "com.gitlab.tag_push", "subject": "refs/tags/v1.0.0"}},
		{"issue", nil,
			`{"object_kind":"issue","object_attributes":{"iid":23,"state":"opened","action":"open"},"repository":{"homepage":"http://example.com/gitlabhq/gitlab-test"}}`,
			map[string]string{"type": "com.gitlab.issue.opened", "subject": "23"}},
		{"merge request", nil,
			`{"object_kind":"merge_request","object_attributes":{"iid":1,"action":"open","created_at":"2013-12-03T17:23:34Z"},"repository":{"homepage":"http://example.com/a/b"}}`,
			map[string]string{"type": "com.gitlab.merge_request.open", "subject": "1", "time": "2013-12-03T17:23:34Z"}},
		{"note on commit", nil,
			`{"object_kind":"note","object_attributes":{"id":1243,"noteable_type":"Commit","created_at":"2015-05-17 18:08:09 UTC","url":"http://example.com/c#note_1243"},"commit":{"url":"http://example.com/gitlab-org/gitlab-test/commit/cfe32cf"}}`,
			map[string]string{"type": "com.gitlab.note.commit", "subject": "1243", "source": "http://example.com/gitlab-org/gitlab-test/commit/cfe32cf", "time": "2015-05-17T18:08:09Z"}},
		{"note on merge request", nil,
			`{"object_kind":"note","object_attributes":{"id":1244,"noteable_type":"MergeRequest","created_at":"2015-05-17 18:21:36 +0100","url":"http://example.com/mr/1#note_1244"}}`,
			map[string]string{"type": "com.gitlab.note.merge_request", "source": "http://example.com/mr/1", "time": "2015-05-17T17:21:36Z"}},
		{"pipeline", nil,
			`{"object_kind":"pipeline","object_attributes":{"id":31,"status":"success"},"project":{"web_url":"http://192.168.64.1:3005/gitlab-org/gitlab-test"}}`,
			map[string]string{"type": "com.gitlab.pipeline.success", "subject": "31", "source": "http://192.168.64.1:3005/gitlab-org/gitlab-test"}},
		{"job", nil,
			`{"object_kind":"build","build_id":1977,"build_status":"created","repository":{"homepage":"http://192.168.64.1:3005/gitlab-org/gitlab-test"}}`,
			map[string]string{"type": "com.gitlab.job.created", "subject": "1977"}},
		{"kind from header", []string{HeaderEvent, "Merge Request Hook", HeaderInstance, "https://gitlab.example.com"},
			`{"object_attributes":{"iid":5,"action":"merge"}}`,
			map[string]string{"type": "com.gitlab.merge_request.merge", "source": "https://gitlab.example.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture()
			w := f.Post([]byte(c.body), append([]string{HeaderToken, token}, c.headers...)...)
			webhooktest.WantStatus(t, w, http.StatusAccepted)
			e := webhooktest.One(t, f.Col)
			webhooktest.WantAttrs(t, e, c.want)
			if _, ok := c.want["id"]; !ok && e.ID() != webhook.BodyID([]byte(c.body)) {
				t.Errorf("id %q: without id headers, the body's hash", e.ID())
			}
		})
	}
}

func TestReplayUnderAnotherID(t *testing.T) {
	f := newFixture()
	body := []byte(`{"object_kind":"push","checkout_sha":"a","repository":{"homepage":"http://example.com/x"}}`)
	webhooktest.WantStatus(t, f.Post(body, HeaderToken, token, HeaderIdempotency, "k1"), 202)
	webhooktest.WantStatus(t, f.Post(body, HeaderToken, token, HeaderIdempotency, "k1"), 202)
	webhooktest.WantProblem(t, f.Post(body, HeaderToken, token, HeaderIdempotency, "k2"), 401, "unauthorized")
	if f.Col.Distinct() != 1 || f.Rejected("gl", webhook.ReasonReplay) != 1 {
		t.Fatalf("distinct %d", f.Col.Distinct())
	}
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "gl", `{"type":"gitlab","secret":"`+token+`"}`, col)
	body := []byte(`{"object_kind":"tag_push","ref":"refs/tags/v1","repository":{"homepage":"http://example.com/x"}}`)
	if code, b := webhooktest.Send(t, url, body, HeaderToken, token, HeaderEvent, "Tag Push Hook"); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"type": "com.gitlab.tag_push"})
}

func FuzzDelivery(f *testing.F) {
	f.Add("Push Hook", "", []byte(`{"object_kind":"push","repository":{"homepage":"http://x/y"}}`))
	f.Add("Note Hook", "k", []byte(`{"object_kind":"note","object_attributes":{"noteable_type":"Snippet","url":"#note_1"}}`))
	f.Add("", "", []byte(`{"object_kind":"build","build_status":"a b"}`))
	f.Fuzz(func(t *testing.T, event, idem string, body []byte) {
		fx := newFixture()
		fx.WantFuzzOutcome(t, fx.Post(body, HeaderToken, token, HeaderEvent, event, HeaderIdempotency, idem))
	})
}
