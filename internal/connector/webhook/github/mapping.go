package github

import (
	"regexp"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// attrs says where an event's subject and time are in its payload. Time
// paths are tried in order; when none holds a time, the time is the
// arrival time. From the CloudEvents GitHub adapter
// (cloudevents/spec cloudevents/adapters/github.md), plus the events it
// predates (ping, workflow_run, workflow_job, discussion).
type attrs struct {
	subject string
	time    []string
}

var table = map[string]attrs{
	"check_run":                      {"check_run.id", []string{"check_run.completed_at", "check_run.started_at"}},
	"check_suite":                    {"check_suite.id", []string{"check_suite.updated_at"}},
	"commit_comment":                 {"comment.id", []string{"comment.updated_at"}},
	"content_reference":              {"content_reference.id", nil},
	"create":                         {"ref", nil},
	"delete":                         {"ref", nil},
	"deploy_key":                     {"key.id", []string{"key.deleted_at", "key.created_at"}},
	"deployment":                     {"deployment.id", []string{"deployment.updated_at"}},
	"deployment_status":              {"deployment_status.url", []string{"deployment_status.updated_at"}},
	"discussion":                     {"discussion.number", []string{"discussion.updated_at"}},
	"fork":                           {"forkee.url", []string{"forkee.created_at"}},
	"installation":                   {"installation.id", nil},
	"installation_repositories":      {"installation.id", nil},
	"issue_comment":                  {"comment.id", []string{"comment.updated_at"}},
	"issues":                         {"issue.number", []string{"issue.updated_at"}},
	"label":                          {"label.name", nil},
	"marketplace_purchase":           {"marketplace_purchase.account.login", []string{"effective_date"}},
	"member":                         {"member.login", nil},
	"membership":                     {"member.login", nil},
	"meta":                           {"hook_id", []string{"hook.updated_at"}},
	"milestone":                      {"milestone.number", []string{"milestone.updated_at"}},
	"org_block":                      {"blocked_user.login", nil},
	"organization":                   {"membership.user.login", nil},
	"page_build":                     {"build.url", []string{"build.updated_at"}},
	"ping":                           {"hook_id", nil},
	"project":                        {"project.id", []string{"project.updated_at"}},
	"project_card":                   {"project_card.id", []string{"project_card.updated_at"}},
	"project_column":                 {"project_column.id", []string{"project_column.updated_at"}},
	"public":                         {"repository.name", []string{"repository.updated_at"}},
	"pull_request":                   {"number", []string{"pull_request.updated_at"}},
	"pull_request_review":            {"review.id", []string{"review.submitted_at"}},
	"pull_request_review_comment":    {"comment.id", []string{"comment.updated_at"}},
	"push":                           {"ref", nil},
	"registry_package":               {"registry_package.html_url", []string{"registry_package.updated_at"}},
	"release":                        {"release.id", []string{"release.published_at", "release.created_at"}},
	"repository":                     {"repository.name", []string{"repository.updated_at"}},
	"repository_import":              {"repository.name", []string{"repository.updated_at"}},
	"repository_vulnerability_alert": {"alert.id", nil},
	"security_advisory":              {"security_advisory.ghsa_id", []string{"security_advisory.updated_at"}},
	"star":                           {"", []string{"starred_at"}},
	"status":                         {"sha", []string{"updated_at"}},
	"team":                           {"team.id", nil},
	"team_add":                       {"team.id", nil},
	"workflow_job":                   {"workflow_job.id", []string{"workflow_job.completed_at", "workflow_job.started_at"}},
	"workflow_run":                   {"workflow_run.id", []string{"workflow_run.updated_at"}},
}

// eventName is what X-GitHub-Event may hold: GitHub's event names are
// lower-case words joined by underscores.
var eventName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Map turns a verified delivery into a CloudEvent:
//
//	id      = the X-GitHub-Delivery header
//	type    = com.github.<X-GitHub-Event>, then .<action> when the payload has one
//	source  = repository.html_url, else the organization's page
//	          (https://github.com/<login>), else sender.html_url, else https://github.com
//	subject = per event, as the CloudEvents GitHub adapter (push: ref,
//	          pull_request: number, issues: issue.number, …)
//	time    = per event (pull_request.updated_at, …), else now
//	data    = the JSON payload (application/json)
func Map(event, delivery string, payload []byte, now time.Time) (*webhook.Event, error) {
	if !eventName.MatchString(event) {
		return nil, webhook.Invalidf("the %s header must name an event (push, pull_request, …), not %q", HeaderEvent, event)
	}
	if delivery == "" {
		return nil, webhook.Invalidf("the %s header is missing", HeaderDelivery)
	}
	m, err := webhook.ParseObject(payload)
	if err != nil {
		return nil, err
	}
	typ := "com.github." + event
	if a := webhook.String(m, "action"); a != "" {
		typ += "." + a
	}
	ev := &webhook.Event{
		ID:              delivery,
		Type:            typ,
		Source:          sourceOf(m),
		Time:            now,
		DataContentType: "application/json",
		Data:            payload,
	}
	if at, ok := table[event]; ok {
		if at.subject != "" {
			ev.Subject = webhook.String(m, at.subject)
		}
		for _, p := range at.time {
			if t, ok := webhook.Time(m, p); ok {
				ev.Time = t
				break
			}
		}
	}
	return ev, nil
}

func sourceOf(m map[string]any) string {
	if u := webhook.String(m, "repository.html_url"); u != "" {
		return u
	}
	if u := webhook.String(m, "organization.html_url"); u != "" {
		return u
	}
	if l := webhook.String(m, "organization.login"); l != "" {
		return "https://github.com/" + l
	}
	if u := webhook.String(m, "sender.html_url"); u != "" {
		return u
	}
	return "https://github.com"
}
