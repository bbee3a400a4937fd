package subscription_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/amqp1"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/http"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
)

// publicResolver answers every name with a public address, so that the
// SSRF check passes for names and fails for literal private addresses.
type publicResolver struct{}

func (publicResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
}

func problems(t *testing.T, s string, o subscription.Options) map[string]string {
	t.Helper()
	var sub subscription.Subscription
	if err := json.Unmarshal([]byte(s), &sub); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	err := subscription.Validate(context.Background(), &sub, o)
	got := map[string]string{}
	if err == nil {
		return got
	}
	var ve *spec.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s: %v", s, err)
	}
	for _, p := range ve.Problems {
		got[p.Path] += p.Reason
	}
	return got
}

func TestValidateAMQP(t *testing.T) {
	o := subscription.Options{Resolver: publicResolver{}}
	cases := []struct {
		name, sub string
		want      map[string]string // path -> part of the message; empty: valid
	}{
		{"path address", `{"protocol":"AMQP","sink":"amqp://broker.example:5672/orders"}`, nil},
		{"amqps and settings", `{"protocol":"AMQP","sink":"amqps://broker.example","protocolsettings":{"address":"/queue/q","linkname":"l","sendersettlementmode":"settled","linkproperties":{"k":"v"}},
			"sinkcredential":{"credentialtype":"PLAIN","identifier":"u","secret":"p"}}`, nil},
		{"no address", `{"protocol":"AMQP","sink":"amqp://broker.example:5672"}`, map[string]string{"sink": "needs an address"}},
		{"http scheme", `{"protocol":"AMQP","sink":"http://broker.example/q"}`, map[string]string{"sink": "amqp://"}},
		{"amqp scheme for HTTP", `{"protocol":"HTTP","sink":"amqp://broker.example/q"}`, map[string]string{"sink": "http://"}},
		{"private host", `{"protocol":"AMQP","sink":"amqp://127.0.0.1:5672/q"}`, map[string]string{"sink": "not allowed"}},
		{"metadata host", `{"protocol":"AMQP","sink":"amqp://169.254.169.254/q"}`, map[string]string{"sink": "not allowed"}},
		{"userinfo", `{"protocol":"AMQP","sink":"amqp://u:p@broker.example/q"}`, map[string]string{"sink": "sinkcredential"}},
		{"token credential", `{"protocol":"AMQP","sink":"amqp://broker.example/q","sinkcredential":{"credentialtype":"ACCESSTOKEN","accesstoken":"t"}}`,
			map[string]string{"sinkcredential.credentialtype": "PLAIN only"}},
		{"bad settlement", `{"protocol":"AMQP","sink":"amqp://broker.example/q","protocolsettings":{"sendersettlementmode":"first"}}`,
			map[string]string{"protocolsettings.sendersettlementmode": "settled or unsettled"}},
		{"HTTP keys on AMQP", `{"protocol":"AMQP","sink":"amqp://broker.example/q","protocolsettings":{"method":"PUT","headers":{"a":"b"}}}`,
			map[string]string{"protocolsettings.method": "HTTP", "protocolsettings.headers": "HTTP"}},
		{"AMQP keys on HTTP", `{"protocol":"HTTP","sink":"http://broker.example/q","protocolsettings":{"address":"a","linkname":"l"}}`,
			map[string]string{"protocolsettings.address": "AMQP", "protocolsettings.linkname": "AMQP"}},
		{"unsupported protocol", `{"protocol":"KAFKA","sink":"kafka://broker.example/q"}`, map[string]string{"protocol": "not supported"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := problems(t, c.sub, o)
			if len(got) != len(c.want) {
				t.Fatalf("problems %v, want %v", got, c.want)
			}
			for path, part := range c.want {
				if !strings.Contains(got[path], part) {
					t.Errorf("%s: %q, want it to contain %q (all: %v)", path, got[path], part, got)
				}
			}
		})
	}
	// With api.allow_private_addresses a loopback broker is fine.
	if got := problems(t, `{"protocol":"AMQP","sink":"amqp://127.0.0.1:5672/q"}`, subscription.Options{AllowPrivate: true}); len(got) != 0 {
		t.Errorf("private allowed: %v", got)
	}
}

// An AMQP subscription runs as an amqp1 target with the sink's broker,
// address, credential and link settings.
func TestResourcesAMQP(t *testing.T) {
	cases := []struct {
		sub                     string
		url, address, user, pwd string
		settle, link            string
	}{
		{`{"protocol":"AMQP","sink":"amqp://broker.example:5673/orders"}`, "amqp://broker.example:5673", "orders", "", "", "unsettled", ""},
		{`{"protocol":"AMQP","sink":"amqps://broker.example//queue/orders","sinkcredential":{"credentialtype":"PLAIN","identifier":"u","secret":"s"}}`,
			"amqps://broker.example", "/queue/orders", "u", "s", "unsettled", ""},
		{`{"protocol":"AMQP","sink":"amqp://broker.example/ignored","protocolsettings":{"address":"/amq/queue/q","linkname":"ln","sendersettlementmode":"settled","linkproperties":{"p":"v"}}}`,
			"amqp://broker.example", "/amq/queue/q", "", "", "settled", "ln"},
	}
	for _, c := range cases {
		var s subscription.Subscription
		if err := json.Unmarshal([]byte(c.sub), &s); err != nil {
			t.Fatal(err)
		}
		s.ID = "abc"
		tspec, rspec, err := subscription.Resources(&s, subscription.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.sub, err)
		}
		cfg, err := resource.DecodeConnector(resource.KindTarget, tspec, "target")
		if err != nil {
			t.Fatalf("%s: target %s does not decode: %v", c.sub, tspec, err)
		}
		tc, ok := cfg.(*amqp1.TargetConfig)
		if !ok {
			t.Fatalf("%s: target is %T", c.sub, cfg)
		}
		if tc.URL != c.url || tc.Address != c.address || tc.Username != c.user || tc.Password.Value() != c.pwd ||
			tc.SettlementMode != c.settle || tc.LinkName != c.link || tc.Mode != "binary" || tc.Labels["subscription"] != "abc" {
			t.Errorf("%s: target %+v", c.sub, tc)
		}
		if c.link != "" && tc.LinkProperties["p"] != "v" {
			t.Errorf("%s: link properties %v", c.sub, tc.LinkProperties)
		}
		if !strings.Contains(string(rspec), `"subscription-abc"`) {
			t.Errorf("rule %s", rspec)
		}
	}
}

// HTTP subscriptions still run as http targets.
func TestResourcesHTTP(t *testing.T) {
	s := subscription.Subscription{ID: "h", Protocol: "HTTP", Sink: "http://sink.example/in"}
	tspec, _, err := subscription.Resources(&s, subscription.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(tspec, &m)
	if m["type"] != "http" || m["url"] != "http://sink.example/in" || m["block_private"] != true {
		t.Errorf("target %v", m)
	}
}
