package eventbridge

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// envelope is an EventBridge event as every bus carries it.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// IsEnvelope reports whether body looks like an EventBridge event: a JSON
// object with detail-type and detail members.
func IsEnvelope(body []byte) bool {
	var probe struct {
		DetailType json.RawMessage `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.DetailType != nil && probe.Detail != nil
}

// FromEnvelope maps an EventBridge event to a CloudEvent:
//
//	id          = id
//	source      = source (aws.ec2, or your application's source)
//	type        = source + "." + detail-type, with each run of characters
//	              other than letters, digits, '.', '_' and '-' made one '-'
//	              (aws.ec2.EC2-Instance-State-change-Notification)
//	subject     = resources[0]
//	time        = time
//	data        = detail (application/json)
//	detailtype  = detail-type as sent
//	account, region = account, region
//	resources   = resources joined with "," (an ARN with a comma in it
//	              cannot be told apart; such names are rare)
func FromEnvelope(body []byte) (*webhook.Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, webhook.Invalidf("not an EventBridge event: %v", err)
	}
	if env.ID == "" || env.Source == "" || env.DetailType == nil || *env.DetailType == "" {
		return nil, webhook.Invalidf("an EventBridge event needs id, source and detail-type")
	}
	detail := bytes.TrimSpace(env.Detail)
	if len(detail) == 0 || bytes.Equal(detail, []byte("null")) {
		detail = nil
	}
	ev := &webhook.Event{
		ID:              env.ID,
		Source:          env.Source,
		Type:            env.Source + "." + typeToken(*env.DetailType),
		DataContentType: "application/json",
		Data:            detail,
		Extensions:      map[string]string{"detailtype": *env.DetailType},
	}
	if len(env.Resources) > 0 {
		ev.Subject = env.Resources[0]
		ev.Extensions["resources"] = strings.Join(env.Resources, ",")
	}
	if env.Account != "" {
		ev.Extensions["account"] = env.Account
	}
	if env.Region != "" {
		ev.Extensions["region"] = env.Region
	}
	if env.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, env.Time)
		if err != nil {
			return nil, webhook.Invalidf("time %q is not RFC 3339", env.Time)
		}
		ev.Time = t
	}
	return ev, nil
}

// typeToken makes a detail-type fit a CloudEvents type segment.
func typeToken(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}
