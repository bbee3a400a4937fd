package webhook

import "github.com/eventbridge-dev/eventbridge/internal/connector"

// config is a vendor's config type *T.
type config[T any] interface {
	*T
	connector.Config
}

// Register adds a webhook source type from init(). Its config is a *T,
// which the bridge decodes, defaults and validates; newSource then builds
// the source, with zero options O (O holds the tests' hooks).
func Register[T any, C config[T], O any](name, doc string, newSource func(name string, c C, deps connector.Deps, o O) *Source) {
	RegisterFallible(name, doc, func(name string, c C, deps connector.Deps, o O) (*Source, error) {
		return newSource(name, c, deps, o), nil
	})
}

// RegisterFallible is Register for a newSource that may fail.
func RegisterFallible[T any, C config[T], O any](name, doc string, newSource func(name string, c C, deps connector.Deps, o O) (*Source, error)) {
	connector.RegisterSource(connector.SourceType{
		Name:      name,
		Doc:       doc,
		NewConfig: func() connector.Config { return C(new(T)) },
		New: func(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
			var o O
			src, err := newSource(name, c.(C), deps, o)
			if err != nil {
				return nil, err
			}
			return src, nil
		},
	})
}
