package connector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/pkg/component"
	"github.com/eventbridge-dev/eventbridge/pkg/connector"
	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

type testConfig struct {
	connector.Common `yaml:",inline"`
	Name             string `json:"name"`
}

func (c *testConfig) Defaults() {}
func (c *testConfig) Validate(p spec.Problems) {
	if c.Name == "" {
		p.AddAt("name", "required")
	}
}

type badConfig struct {
	connector.Common // no yaml inline tag
}

func (c *badConfig) Defaults()              {}
func (c *badConfig) Validate(spec.Problems) {}

type testTarget struct {
	component.Tracker
	sent []string
}

func (t *testTarget) Start(context.Context) error { t.Set(component.Running, nil); return nil }
func (t *testTarget) Stop(context.Context) error  { t.Set(component.Terminated, nil); return nil }
func (t *testTarget) Send(_ context.Context, e *ce.Event) error {
	t.sent = append(t.sent, e.ID())
	return nil
}

// seq makes type names unique per run (go test -count=2 registers again).
var seq atomic.Int64

func uniq(name string) string { return fmt.Sprintf("%s-%d", name, seq.Add(1)) }

func panics(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestRegisterTargetAndLookup(t *testing.T) {
	var gotName string
	name := uniq("test-registry-target")
	connector.RegisterTarget(connector.TargetType{
		Name:      name,
		Doc:       "for the test",
		NewConfig: func() connector.Config { return &testConfig{} },
		New: func(name string, cfg connector.Config, _ connector.Deps) (connector.Target, error) {
			gotName = name + "/" + cfg.(*testConfig).Name
			return &testTarget{}, nil
		},
	})
	if !slices.Contains(connector.TargetTypes(), name) {
		t.Fatalf("TargetTypes() = %v: the new type is missing", connector.TargetTypes())
	}
	typ, ok := connector.LookupTarget(name)
	if !ok {
		t.Fatal("LookupTarget: not found")
	}
	cfg := typ.NewConfig()
	p := spec.NewProblems("targets.x")
	cfg.Validate(p)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "targets.x.name: required") {
		t.Fatalf("Validate of an empty config: %v", err)
	}
	cfg.(*testConfig).Name = "n"
	tg, err := typ.New("x", cfg, connector.Deps{})
	if err != nil || gotName != "x/n" {
		t.Fatalf("New: %v, built with %q", err, gotName)
	}
	if err := tg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := tg.Health().State; s != component.Running {
		t.Fatalf("state %s after Start", s)
	}
	e := ce.New()
	e.SetID("1")
	if err := tg.Send(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	if got := tg.(*testTarget).sent; len(got) != 1 || got[0] != "1" {
		t.Fatalf("sent %v", got)
	}
	if _, ok := connector.LookupSource(name); ok {
		t.Fatal("a target type was found as a source type")
	}

	msg := panics(func() {
		connector.RegisterTarget(connector.TargetType{Name: name, NewConfig: typ.NewConfig, New: typ.New})
	})
	if !strings.Contains(msg, "registered twice") {
		t.Fatalf("a duplicate registration: panic %q", msg)
	}
}

func TestRegisterRefusesConfigWithoutInlineCommon(t *testing.T) {
	bad := uniq("test-bad-config")
	msg := panics(func() {
		connector.RegisterSource(connector.SourceType{
			Name:      bad,
			NewConfig: func() connector.Config { return &badConfig{} },
			New: func(string, connector.Config, connector.Deps) (connector.Source, error) {
				return nil, errors.New("unused")
			},
		})
	})
	if !strings.Contains(msg, `yaml:",inline"`) {
		t.Fatalf("panic %q, want one naming the inline tag", msg)
	}
	if _, ok := connector.LookupSource(bad); ok {
		t.Fatal("the refused type was registered")
	}
	if msg := panics(func() { connector.RegisterSource(connector.SourceType{Name: "x"}) }); msg == "" {
		t.Fatal("a type without constructors was accepted")
	}
}

func TestOutcomes(t *testing.T) {
	base := errors.New("boom")
	if connector.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) is not nil")
	}
	p := fmt.Errorf("send: %w", connector.Permanent(base))
	if !connector.IsPermanent(p) || !errors.Is(p, base) {
		t.Fatalf("Permanent lost: IsPermanent=%v Is=%v", connector.IsPermanent(p), errors.Is(p, base))
	}
	if connector.IsPermanent(base) || connector.IsPermanent(connector.ErrNotConnected) {
		t.Fatal("a plain error is permanent")
	}
	var ra *connector.RetryAfterError
	if err := connector.RetryAfter(base, 3*time.Second); !errors.As(err, &ra) || ra.After != 3*time.Second || !errors.Is(err, base) {
		t.Fatalf("RetryAfter: %v", err)
	}
	if got := connector.StatusCode(fmt.Errorf("x: %w", &connector.StatusError{Code: 503, Err: base})); got != 503 {
		t.Fatalf("StatusCode = %d", got)
	}
	if connector.StatusCode(base) != 0 {
		t.Fatal("StatusCode of a plain error is not 0")
	}
}
