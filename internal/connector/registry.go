package connector

import (
	"sync"

	pub "github.com/eventbridge-dev/eventbridge/pkg/connector"
)

// SourceType describes a built-in source connector: as pkg/connector's
// SourceType, but New takes the bridge's full Deps.
type SourceType struct {
	// Name is the config "type" value.
	Name string
	// Doc is a one-line description for --help and docs.
	Doc string
	// NewConfig returns a new, zero typed config to decode into.
	NewConfig func() Config
	// New builds the source; cfg is the value NewConfig returned, decoded,
	// defaulted, expanded and validated.
	New func(name string, cfg Config, deps Deps) (Source, error)
}

// TargetType describes a built-in target connector; see SourceType.
type TargetType struct {
	Name      string
	Doc       string
	NewConfig func() Config
	New       func(name string, cfg Config, deps Deps) (Target, error)
}

// The built-in types, with their full-Deps constructors. Every name, built
// in or not, is also registered in pkg/connector, which holds the one name
// space (and panics on duplicates); types registered only there (a user's
// own connectors) are adapted on lookup.
var (
	mu      sync.RWMutex
	sources = map[string]SourceType{}
	targets = map[string]TargetType{}
)

// RegisterSource adds a source type. Call it from init(); it panics on an
// empty or duplicate name, which is a programming error.
func RegisterSource(t SourceType) {
	if t.Name == "" || t.NewConfig == nil || t.New == nil {
		panic("connector: RegisterSource with empty name or constructor")
	}
	pub.RegisterSource(pub.SourceType{
		Name: t.Name, Doc: t.Doc, NewConfig: t.NewConfig,
		New: func(name string, cfg Config, d pub.Deps) (Source, error) {
			return t.New(name, cfg, fromPublic(d))
		},
	})
	mu.Lock()
	defer mu.Unlock()
	sources[t.Name] = t
}

// RegisterTarget adds a target type; see RegisterSource.
func RegisterTarget(t TargetType) {
	if t.Name == "" || t.NewConfig == nil || t.New == nil {
		panic("connector: RegisterTarget with empty name or constructor")
	}
	pub.RegisterTarget(pub.TargetType{
		Name: t.Name, Doc: t.Doc, NewConfig: t.NewConfig,
		New: func(name string, cfg Config, d pub.Deps) (Target, error) {
			return t.New(name, cfg, fromPublic(d))
		},
	})
	mu.Lock()
	defer mu.Unlock()
	targets[t.Name] = t
}

// fromPublic is the Deps of a built-in connector built through
// pkg/connector: no metrics, no scheduler.
func fromPublic(d pub.Deps) Deps {
	return Deps{Logger: d.Logger, Ingest: d.Ingest, HTTP: d.HTTP, Guard: d.Guard}
}

// LookupSource returns the source type registered under name, built in or
// registered through pkg/connector.
func LookupSource(name string) (SourceType, bool) {
	mu.RLock()
	t, ok := sources[name]
	mu.RUnlock()
	if ok {
		return t, true
	}
	p, ok := pub.LookupSource(name)
	if !ok {
		return SourceType{}, false
	}
	return SourceType{
		Name: p.Name, Doc: p.Doc, NewConfig: p.NewConfig,
		New: func(name string, cfg Config, d Deps) (Source, error) {
			return p.New(name, cfg, d.Public())
		},
	}, true
}

// LookupTarget returns the target type registered under name; see
// LookupSource.
func LookupTarget(name string) (TargetType, bool) {
	mu.RLock()
	t, ok := targets[name]
	mu.RUnlock()
	if ok {
		return t, true
	}
	p, ok := pub.LookupTarget(name)
	if !ok {
		return TargetType{}, false
	}
	return TargetType{
		Name: p.Name, Doc: p.Doc, NewConfig: p.NewConfig,
		New: func(name string, cfg Config, d Deps) (Target, error) {
			return p.New(name, cfg, d.Public())
		},
	}, true
}

// SourceTypes returns every registered source type name, sorted.
func SourceTypes() []string { return pub.SourceTypes() }

// TargetTypes returns every registered target type name, sorted.
func TargetTypes() []string { return pub.TargetTypes() }
