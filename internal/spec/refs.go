package spec

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
)

// Secret is a string that must never be shown: APIs and logs print it as
// "***". Its value may be a reference (${env:NAME}, ${file:PATH}).
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

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() string { return s.String() }

// Value returns the secret itself, for the code that uses it.
func (s Secret) Value() string { return string(s) }

var refRE = regexp.MustCompile(`\$\{(env|file):([^}]*)\}`)

// IsReference reports whether s is exactly one ${env:…} or ${file:…}
// reference.
func IsReference(s string) bool {
	loc := refRE.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// ExpandString replaces ${env:NAME} with the environment variable NAME and
// ${file:PATH} with the contents of PATH (one trailing newline removed).
// "$${" stands for a literal "${". A reference to an unset variable or an
// unreadable file is an error.
func ExpandString(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	const esc = "\x00lit\x00"
	s = strings.ReplaceAll(s, "$${", esc)
	var firstErr error
	out := refRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRE.FindStringSubmatch(m)
		switch sub[1] {
		case "env":
			v, ok := os.LookupEnv(sub[2])
			if !ok && firstErr == nil {
				firstErr = fmt.Errorf("environment variable %s is not set", sub[2])
			}
			return v
		default:
			b, err := os.ReadFile(sub[2])
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("cannot read secret file: %w", err)
			}
			return strings.TrimSuffix(string(b), "\n")
		}
	})
	if firstErr != nil {
		return "", firstErr
	}
	return strings.ReplaceAll(out, esc, "${"), nil
}

// Expand walks v (a pointer to a struct, map or slice) and expands the
// references in every string it holds, in place. Problems go to p with the
// JSON path of the field.
func Expand(v any, p Problems) {
	expandValue(reflect.ValueOf(v), p)
}

func expandValue(v reflect.Value, p Problems) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			expandValue(v.Elem(), p)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous {
				expandValue(v.Field(i), p)
				continue
			}
			expandValue(v.Field(i), p.At(jsonName(f)))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			expandValue(v.Index(i), p.Index(i))
		}
	case reflect.Map:
		if v.Type().Elem().Kind() == reflect.String {
			for _, k := range v.MapKeys() {
				s, err := ExpandString(v.MapIndex(k).String())
				if err != nil {
					p.AddAt(fmt.Sprint(k.Interface()), "%v", err)
					continue
				}
				nv := reflect.New(v.Type().Elem()).Elem()
				nv.SetString(s)
				v.SetMapIndex(k, nv)
			}
			return
		}
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer {
				expandValue(e, p.At(fmt.Sprint(k.Interface())))
			}
		}
	case reflect.String:
		if !v.CanSet() {
			return
		}
		s, err := ExpandString(v.String())
		if err != nil {
			p.Add("%v", err)
			return
		}
		v.SetString(s)
	}
}

// Redact replaces, in place, every non-empty value of type Secret inside v
// (a pointer) by "***", except values that are only a reference
// (${env:NAME}, ${file:PATH}), which name a secret without holding it.
// Call it on a copy that is about to be shown.
func Redact(v any) {
	redactValue(reflect.ValueOf(v))
}

var secretType = reflect.TypeFor[Secret]()

func redactValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			redactValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				redactValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			redactValue(v.Index(i))
		}
	case reflect.Map:
		if v.Type().Elem() == secretType {
			for _, k := range v.MapKeys() {
				if s := v.MapIndex(k).String(); s != "" && !IsReference(s) {
					v.SetMapIndex(k, reflect.ValueOf(Secret(Redacted)))
				}
			}
		}
	case reflect.String:
		if v.Type() == secretType && v.CanSet() && v.String() != "" && !IsReference(v.String()) {
			v.SetString(Redacted)
		}
	}
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if name, _, _ := strings.Cut(tag, ","); name != "" && name != "-" {
		return name
	}
	return f.Name
}
