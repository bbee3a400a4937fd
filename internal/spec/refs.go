package spec

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
)

// Refs says which references a spec may hold, and gives the named
// secrets. The zero value is the policy of resources sent through the
// API: ${env:…} and ${file:…} are refused (and never read), ${secret:NAME}
// is allowed in secret fields only, and there are no secrets.
type Refs struct {
	// EnvFile lets any string hold ${env:NAME} and ${file:PATH}. Only the
	// operator's config file sets it.
	EnvFile bool
	// Secrets are the named secrets of the config file (secrets:), which
	// ${secret:NAME} refers to.
	Secrets map[string]Secret
	// Verbatim leaves every reference as written, reads nothing and
	// refuses nothing (only $${ becomes ${): for showing or testing a
	// stored spec without its secrets.
	Verbatim bool
}

var refRE = regexp.MustCompile(`\$\{(env|file|secret):([^}]*)\}`)

// IsReference reports whether s is exactly one reference: ${env:NAME},
// ${file:PATH} or ${secret:NAME}.
func IsReference(s string) bool {
	loc := refRE.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s) && !strings.HasPrefix(s, "$${")
}

// ExpandString replaces ${env:NAME} with the environment variable NAME and
// ${file:PATH} with the contents of PATH (one trailing newline removed), as
// the config file allows. "$${" stands for a literal "${". A reference to
// an unset variable or an unreadable file is an error.
func ExpandString(s string) (string, error) {
	out, _, err := expandString(s, true, Refs{EnvFile: true})
	return out, err
}

const escLit = "\x00lit\x00"

// checkRefs refuses the references of s (with "$${" already escaped) that
// refs does not allow, reading nothing.
func checkRefs(s string, secret bool, refs Refs) error {
	if refs.Verbatim {
		return nil
	}
	for _, m := range refRE.FindAllStringSubmatch(s, -1) {
		switch {
		case m[1] != "secret" && !refs.EnvFile:
			return ErrEnvFileRef
		case m[1] == "secret" && !secret:
			return ErrSecretField
		case m[1] == "secret":
			if _, ok := refs.Secrets[m[2]]; !ok {
				return fmt.Errorf("%w: %q is not declared under secrets: in the bridge's config file", ErrUnknownSecret, m[2])
			}
		}
	}
	return nil
}

// expandString expands the references of s under refs; secret says
// whether s is a secret field. Every reference is checked before any is
// read, so a refused spec reads nothing. It returns the values put in.
func expandString(s string, secret bool, refs Refs) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	s = strings.ReplaceAll(s, "$${", escLit)
	if err := checkRefs(s, secret, refs); err != nil {
		return "", nil, err
	}
	var firstErr error
	var values []string
	out := s
	if !refs.Verbatim {
		out = refRE.ReplaceAllStringFunc(s, func(m string) string {
			sub := refRE.FindStringSubmatch(m)
			var v string
			switch sub[1] {
			case "env":
				var ok bool
				if v, ok = os.LookupEnv(sub[2]); !ok && firstErr == nil {
					firstErr = fmt.Errorf("environment variable %s is not set", sub[2])
				}
			case "file":
				b, err := os.ReadFile(sub[2])
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("cannot read secret file: %w", err)
				}
				v = strings.TrimSuffix(string(b), "\n")
			default:
				v = refs.Secrets[sub[2]].Value()
			}
			if v != "" {
				values = append(values, v)
			}
			return v
		})
	}
	if firstErr != nil {
		return "", nil, firstErr
	}
	return strings.ReplaceAll(out, escLit, "${"), values, nil
}

// Expand walks v (a pointer to a struct, map or slice) and expands the
// references in every string it holds, in place, under refs. Problems go
// to p with the JSON path of the field. Strings it cannot set (inside
// values of type any) are checked but left as written. Fields tagged
// json:"-" are not read from a spec and are skipped. It returns the
// values it put in, for Problems.Scrub.
func Expand(v any, p Problems, refs Refs) []string {
	e := expander{refs: refs}
	e.value(reflect.ValueOf(v), p, false)
	return e.values
}

type expander struct {
	refs   Refs
	values []string
}

func (e *expander) value(v reflect.Value, p Problems, secret bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			e.value(v.Elem(), p, false)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			if f.Anonymous {
				e.value(v.Field(i), p, false)
				continue
			}
			e.value(v.Field(i), p.At(jsonName(f)), false)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e.value(v.Index(i), p.Index(i), false)
		}
	case reflect.Map:
		et := v.Type().Elem()
		for _, k := range v.MapKeys() {
			kp := p.At(fmt.Sprint(k.Interface()))
			if et.Kind() != reflect.String {
				e.value(v.MapIndex(k), kp, false)
				continue
			}
			s, ok := e.expand(v.MapIndex(k).String(), kp, et == secretType)
			if !ok {
				continue
			}
			nv := reflect.New(et).Elem()
			nv.SetString(s)
			v.SetMapIndex(k, nv)
		}
	case reflect.String:
		if !v.CanSet() {
			// Inside a value of type any: never expanded, but checked.
			if err := checkRefs(strings.ReplaceAll(v.String(), "$${", escLit), false, e.refs); err != nil {
				p.Add("%v", err)
			}
			return
		}
		if s, ok := e.expand(v.String(), p, v.Type() == secretType); ok {
			v.SetString(s)
		}
	}
}

func (e *expander) expand(s string, p Problems, secret bool) (string, bool) {
	out, vals, err := expandString(s, secret, e.refs)
	if err != nil {
		p.Add("%v", err)
		return "", false
	}
	e.values = append(e.values, vals...)
	return out, true
}

// Redact replaces, in place, every non-empty value of type Secret inside v
// (a pointer) by "***", except values that are only a reference
// (${secret:NAME}, ${env:NAME}, ${file:PATH}), which name a secret without
// holding it. Call it on a copy that is about to be shown.
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
