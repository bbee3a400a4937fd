package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	pub "github.com/eventbridge-dev/eventbridge/pkg/connector"
)

type regConfig struct {
	connector.Common `yaml:",inline"`
}

func (c *regConfig) Defaults()              {}
func (c *regConfig) Validate(spec.Problems) {}

type regTarget struct{ component.Tracker }

func (t *regTarget) Start(context.Context) error           { return nil }
func (t *regTarget) Stop(context.Context) error            { return nil }
func (t *regTarget) Send(context.Context, *ce.Event) error { return nil }

// seq makes type names unique per run (go test -count=2 registers again).
var seq atomic.Int64

func uniq(name string) string { return fmt.Sprintf("%s-%d", name, seq.Add(1)) }

func recovered(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// A type registered through the public package is built by the bridge
// (internal lookup) with the public part of its Deps.
func TestPublicTypeIsFoundInternally(t *testing.T) {
	var got pub.Deps
	name := uniq("test-public-target")
	pub.RegisterTarget(pub.TargetType{
		Name:      name,
		NewConfig: func() pub.Config { return &regConfig{} },
		New: func(_ string, _ pub.Config, d pub.Deps) (pub.Target, error) {
			got = d
			return &regTarget{}, nil
		},
	})
	typ, ok := connector.LookupTarget(name)
	if !ok {
		t.Fatal("internal LookupTarget does not find a public type")
	}
	log := slog.Default()
	if _, err := typ.New("x", typ.NewConfig(), connector.Deps{Logger: log, Metrics: telemetry.NewMetrics()}); err != nil {
		t.Fatal(err)
	}
	if got.Logger != log {
		t.Fatal("the public constructor did not get the bridge's logger")
	}
	if !slices.Contains(connector.TargetTypes(), name) {
		t.Fatalf("TargetTypes() = %v", connector.TargetTypes())
	}
	// Names are one space: a built-in may not take a public type's name.
	msg := recovered(func() {
		connector.RegisterTarget(connector.TargetType{
			Name: name, NewConfig: typ.NewConfig,
			New: func(string, connector.Config, connector.Deps) (connector.Target, error) { return &regTarget{}, nil },
		})
	})
	if !strings.Contains(msg, "registered twice") {
		t.Fatalf("duplicate across registries: panic %q", msg)
	}
}

// A built-in type is visible through the public package, and keeps its
// full Deps when the bridge builds it.
func TestBuiltinTypeIsPublic(t *testing.T) {
	var got connector.Deps
	name := uniq("test-builtin-source")
	connector.RegisterSource(connector.SourceType{
		Name:      name,
		NewConfig: func() connector.Config { return &regConfig{} },
		New: func(_ string, _ connector.Config, d connector.Deps) (connector.Source, error) {
			got = d
			return &regTarget{}, nil
		},
	})
	if _, ok := pub.LookupSource(name); !ok {
		t.Fatal("pkg/connector does not see a built-in type")
	}
	typ, _ := connector.LookupSource(name)
	m := telemetry.NewMetrics()
	if _, err := typ.New("x", typ.NewConfig(), connector.Deps{Metrics: m}); err != nil {
		t.Fatal(err)
	}
	if got.Metrics != m {
		t.Fatal("a built-in lost its metrics")
	}
	if msg := recovered(func() {
		pub.RegisterSource(pub.SourceType{Name: name, NewConfig: typ.NewConfig,
			New: func(string, pub.Config, pub.Deps) (pub.Source, error) { return nil, nil }})
	}); !strings.Contains(msg, "registered twice") {
		t.Fatalf("duplicate across registries: panic %q", msg)
	}
}
