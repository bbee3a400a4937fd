package spec

import "log/slog"

// Secret is a string that must never be shown: APIs and logs print it as
// "***". Its value may hold references: ${secret:NAME} anywhere, and
// ${env:NAME} or ${file:PATH} in the config file.
type Secret string

// Redacted is how secrets are shown.
const Redacted = "***"

// String implements fmt.Stringer so that %v and slog never print the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// LogValue implements slog.LogValuer, so that every log handler (the
// JSON one marshals other values as they are) prints "***".
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Value returns the secret itself, for the code that uses it.
func (s Secret) Value() string { return string(s) }
