package connector

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// SourceType describes a source connector.
type SourceType struct {
	// Name is the config "type" value.
	Name string
	// Doc is a one-line description for --help and docs.
	Doc string
	// NewConfig returns a new, zero typed config to decode into.
	NewConfig func() Config
	// New builds the source; cfg is the value NewConfig returned, decoded,
	// defaulted, expanded and validated. name is the resource's name
	// ("sources.<name>" in the config file).
	New func(name string, cfg Config, deps Deps) (Source, error)
}

// TargetType describes a target connector; the fields are those of
// SourceType.
type TargetType struct {
	Name      string
	Doc       string
	NewConfig func() Config
	New       func(name string, cfg Config, deps Deps) (Target, error)
}

var (
	mu      sync.RWMutex
	sources = map[string]SourceType{}
	targets = map[string]TargetType{}
)

// RegisterSource adds a source type. Call it from init(); it panics on an
// empty or duplicate name (built-in connectors share the name space),
// which is a programming error.
func RegisterSource(t SourceType) {
	mu.Lock()
	defer mu.Unlock()
	if t.Name == "" || t.NewConfig == nil || t.New == nil {
		panic("connector: RegisterSource with empty name or constructor")
	}
	checkConfig("source", t.Name, t.NewConfig())
	if _, dup := sources[t.Name]; dup {
		panic(fmt.Sprintf("connector: source type %q registered twice", t.Name))
	}
	sources[t.Name] = t
}

// RegisterTarget adds a target type; see RegisterSource.
func RegisterTarget(t TargetType) {
	mu.Lock()
	defer mu.Unlock()
	if t.Name == "" || t.NewConfig == nil || t.New == nil {
		panic("connector: RegisterTarget with empty name or constructor")
	}
	checkConfig("target", t.Name, t.NewConfig())
	if _, dup := targets[t.Name]; dup {
		panic(fmt.Sprintf("connector: target type %q registered twice", t.Name))
	}
	targets[t.Name] = t
}

// LookupSource returns the source type registered under name, built-in or
// not. The Deps a built-in connector gets through it lack what only the
// bridge itself can give (metrics, the job scheduler).
func LookupSource(name string) (SourceType, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := sources[name]
	return t, ok
}

// LookupTarget returns the target type registered under name.
func LookupTarget(name string) (TargetType, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := targets[name]
	return t, ok
}

// SourceTypes returns the registered source type names, sorted.
func SourceTypes() []string {
	mu.RLock()
	defer mu.RUnlock()
	return sortedKeys(sources)
}

// TargetTypes returns the registered target type names, sorted.
func TargetTypes() []string {
	mu.RLock()
	defer mu.RUnlock()
	return sortedKeys(targets)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var commonType = reflect.TypeOf(Common{})

// checkConfig panics when cfg embeds Common without `yaml:",inline"`: the
// config file's YAML decoder would then expect the common fields under a
// key "common", and refuse every spec ("unknown field type").
func checkConfig(kind, name string, cfg Config) {
	v := reflect.TypeOf(cfg)
	for v != nil && v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v == nil || v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Anonymous && f.Type == commonType && f.Tag.Get("yaml") != ",inline" {
			panic(fmt.Sprintf("connector: %s type %q: its config embeds connector.Common without the tag `yaml:\",inline\"`", kind, name))
		}
	}
}
