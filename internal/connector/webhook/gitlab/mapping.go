package gitlab

import (
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Delivery is what the headers of a GitLab delivery say.
type Delivery struct {
	Event       string // X-Gitlab-Event: "Push Hook", …
	Idempotency string // Idempotency-Key (GitLab 17.4+): the same on retries
	EventUUID   string // X-Gitlab-Event-UUID
	Instance    string // X-Gitlab-Instance: https://gitlab.example.com
}

// Map turns a verified delivery into a CloudEvent, per the CloudEvents
// GitLab adapter (cloudevents/spec cloudevents/adapters/gitlab.md):
//
//	id      = Idempotency-Key, else X-Gitlab-Event-UUID, else the body's SHA-256
//	type    = com.gitlab.<object_kind>, with the state, action or status the
//	          adapter names (com.gitlab.issue.opened, com.gitlab.note.commit,
//	          com.gitlab.pipeline.success, com.gitlab.job.failed, …)
//	source  = repository.homepage, else project.web_url (notes: the noted
//	          object's URL), else X-Gitlab-Instance
//	subject = checkout_sha (push), ref (tag_push), object_attributes.iid
//	          (issue, merge_request), object_attributes.id (note, pipeline), …
//	time    = object_attributes.created_at where the adapter says so, else now
//	data    = the body (application/json)
func Map(d Delivery, body []byte, now time.Time) (*webhook.Event, error) {
	m, err := webhook.ParseObject(body)
	if err != nil {
		return nil, err
	}
	kind := webhook.String(m, "object_kind")
	if kind == "" {
		kind = kindFromHeader(d.Event)
	}
	if kind == "" || strings.ContainsAny(kind, " \t") {
		return nil, webhook.Invalidf("neither object_kind nor the %s header says what happened", HeaderEvent)
	}
	ev := &webhook.Event{
		ID:              firstOf(d.Idempotency, d.EventUUID, webhook.BodyID(body)),
		Type:            "com.gitlab." + kind,
		Source:          firstOf(webhook.String(m, "repository.homepage"), webhook.String(m, "project.web_url"), d.Instance, "https://gitlab.com"),
		Time:            now,
		DataContentType: "application/json",
		Data:            body,
	}
	oa := func(f string) string { return webhook.String(m, "object_attributes."+f) }
	created := func() {
		if t, ok := parseTime(oa("created_at")); ok {
			ev.Time = t
		}
	}
	switch kind {
	case "push":
		ev.Subject = webhook.String(m, "checkout_sha")
	case "tag_push":
		ev.Subject = webhook.String(m, "ref")
	case "issue", "work_item":
		ev.Type = suffix(ev.Type, oa("state"))
		ev.Subject = oa("iid")
	case "merge_request":
		ev.Type = suffix(ev.Type, oa("action"))
		ev.Subject = oa("iid")
		created()
	case "note":
		ev.Type = suffix(ev.Type, snake(oa("noteable_type")))
		ev.Subject = oa("id")
		if u, _, _ := strings.Cut(oa("url"), "#note_"); u != "" && oa("noteable_type") != "Commit" {
			ev.Source = u
		} else if u := webhook.String(m, "commit.url"); u != "" {
			ev.Source = u
		}
		created()
	case "wiki_page":
		ev.Type = suffix(ev.Type, oa("action"))
		ev.Subject = oa("slug")
		ev.Source = firstOf(webhook.String(m, "project.web_url"), ev.Source)
	case "pipeline":
		ev.Type = suffix(ev.Type, oa("status"))
		ev.Subject = oa("id")
		ev.Source = firstOf(webhook.String(m, "project.web_url"), ev.Source)
	case "build": // a job event; the adapter calls it job
		ev.Type = suffix("com.gitlab.job", firstOf(webhook.String(m, "build_status"), webhook.String(m, "job_status")))
		ev.Subject = firstOf(webhook.String(m, "build_id"), webhook.String(m, "job_id"))
	default:
		ev.Type = suffix(ev.Type, oa("action"))
		ev.Subject = oa("id")
	}
	return ev, nil
}

// kindFromHeader turns "Merge Request Hook" into "merge_request".
func kindFromHeader(h string) string {
	h = strings.TrimSuffix(strings.TrimSpace(h), " Hook")
	return snake(h)
}

// snake turns "MergeRequest" or "Merge Request" into "merge_request".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == ' ' || r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		case r >= 'A' && r <= 'Z':
			if i > 0 && b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func suffix(typ, s string) string {
	if s == "" {
		return typ
	}
	return typ + "." + s
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseTime reads GitLab's times: RFC 3339, or "2013-12-03 17:23:34 UTC"
// and "2013-12-03 17:23:34 +0100" in older hooks.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			if y := t.UTC().Year(); y >= 1 && y <= 9999 {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
