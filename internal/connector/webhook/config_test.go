package webhook_test

import (
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all"
)

// Every webhook source is compiled in, and its YAML config (the file's
// decoder, not JSON's) reads with its defaults.
func TestConfigFile(t *testing.T) {
	t.Setenv("EB_TEST_SECRET", "s3cret")
	const yaml = `
sources:
  gh:  {type: github, secret: "${env:EB_TEST_SECRET}"}
  gl:  {type: gitlab, secret: x, max_body_size: 64KiB}
  st:  {type: stripe, secret: whsec_x, tolerance: 10m}
  sns: {type: aws-sns, topic_arns: ["arn:aws:sns:us-east-1:123456789012:t"], auto_confirm: true, unwrap: false}
  eb:  {type: eventbridge, auth: {api_key: {header: x-api-key, value: k}}}
  ps:  {type: gcp-pubsub, oidc: {audience: "https://x.example.com/p", emails: [a@b.iam.gserviceaccount.com]}}
  eg:  {type: azure-eventgrid, key: k, path: /grid}
  wh:
    type: webhook
    auth: {hmac: {secret: s, header: X-Signature, prefix: "sha256="}}
    event: {type: '"com.example.x"', source: '.headers.host'}
`
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gh": "/hooks/github", "gl": "/hooks/gitlab", "st": "/hooks/stripe", "sns": "/hooks/aws-sns",
		"eb": "/hooks/eventbridge", "ps": "/hooks/gcp-pubsub", "eg": "/grid", "wh": "/hooks/webhook",
	}
	for name, path := range want {
		m, ok := c.Sources[name].(interface{ MountPath() string })
		if !ok {
			t.Fatalf("%s: no MountPath", name)
		}
		if m.MountPath() != path {
			t.Errorf("%s: path %s, want %s", name, m.MountPath(), path)
		}
	}
	for _, typ := range []string{"github", "gitlab", "stripe", "aws-sns", "eventbridge", "gcp-pubsub", "azure-eventgrid", "webhook"} {
		if _, ok := connector.LookupSource(typ); !ok {
			t.Errorf("source type %s is not registered", typ)
		}
	}
}

func TestConfigProblems(t *testing.T) {
	const yaml = `
sources:
  gh:  {type: github}
  st:  {type: stripe, secret: x, tolerance: -1s}
  sns: {type: aws-sns, topic_arns: [MyTopic]}
  eb:  {type: eventbridge}
  ps:  {type: gcp-pubsub, unwrapped: true, oidc: {}}
  wh:  {type: webhook, auth: {bearer: {tokens: [t]}}, event: {type: '.[', source: '"/s"'}, max_body_size: 10}
`
	_, err := config.Parse([]byte(yaml))
	if err == nil {
		t.Fatal("no problems")
	}
	for _, want := range []string{
		"sources.gh.secret", "sources.st.tolerance", "sources.sns.topic_arns[0]", "sources.eb.auth",
		"sources.ps.source", "sources.ps.oidc.audience", "sources.wh.event.type", "sources.wh.max_body_size",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem at %s in:\n%v", want, err)
		}
	}
}
