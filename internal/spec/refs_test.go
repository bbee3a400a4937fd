package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type refsSpec struct {
	Mode    string            `json:"mode"`
	Token   Secret            `json:"token"`
	Headers map[string]Secret `json:"headers"`
	Labels  map[string]string `json:"labels"`
	Free    map[string]any    `json:"free"`
}

// Under the API's policy (the zero Refs), ${env:…} and ${file:…} are
// refused wherever they are, and nothing is read: a file that exists and
// one that does not get the same answer.
func TestExpandAPIRefusesEnvAndFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte("MARKER-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EB_REFS_TEST", "env-value")
	answer := func(ref string) string {
		v := refsSpec{Mode: ref, Token: Secret(ref), Headers: map[string]Secret{"X": Secret("Bearer " + ref)},
			Labels: map[string]string{"l": ref}, Free: map[string]any{"k": []any{ref}}}
		p := NewProblems("spec")
		Expand(&v, p, Refs{Secrets: map[string]Secret{"s": "x"}})
		err := p.Err()
		if err == nil {
			t.Fatalf("%s accepted", ref)
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 5 {
			t.Fatalf("%s: want 5 problems: %v", ref, err)
		}
		for _, pr := range ve.Problems {
			if !strings.Contains(pr.Reason, "secrets:") {
				t.Errorf("%s: %s: the reason does not say what to do: %s", ref, pr.Path, pr.Reason)
			}
		}
		if strings.Contains(err.Error(), "MARKER") || strings.Contains(err.Error(), "env-value") {
			t.Fatalf("a refused reference was read: %v", err)
		}
		return err.Error()
	}
	exists := answer("${file:" + f + "}")
	missing := answer("${file:" + filepath.Join(filepath.Dir(f), "nope") + "}")
	if exists != missing {
		t.Errorf("an existing and a missing file answer differently:\n%s\n%s", exists, missing)
	}
	answer("${env:EB_REFS_TEST}")
}

// ${secret:NAME} resolves in secret fields only; an unknown name is a
// problem naming it; "$${" still writes a literal "${".
func TestExpandNamedSecrets(t *testing.T) {
	refs := Refs{Secrets: map[string]Secret{"chat": "tok-1"}}
	v := refsSpec{Mode: "$${env:X}", Token: "${secret:chat}", Headers: map[string]Secret{"Authorization": "Bearer ${secret:chat}"}}
	p := NewProblems("spec")
	values := Expand(&v, p, refs)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if v.Token != "tok-1" || v.Headers["Authorization"] != "Bearer tok-1" || v.Mode != "${env:X}" {
		t.Fatalf("expanded: %+v", v)
	}
	if len(values) != 2 || values[0] != "tok-1" {
		t.Fatalf("values: %q", values)
	}
	w := refsSpec{Mode: "${secret:chat}", Token: "${secret:nope}"}
	p = NewProblems("spec")
	Expand(&w, p, refs)
	err := p.Err()
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "spec.mode: ${secret:…} references are only allowed in secret fields") ||
		!strings.Contains(msg, `spec.token: no such secret: "nope"`) || strings.Contains(msg, "tok-1") {
		t.Fatalf("problems: %s", msg)
	}
}

// Verbatim reads and refuses nothing.
func TestExpandVerbatim(t *testing.T) {
	v := refsSpec{Mode: "${file:/etc/hostname}", Token: "${env:HOME}", Labels: map[string]string{"a": "$${x}"}}
	p := NewProblems("")
	if values := Expand(&v, p, Refs{Verbatim: true}); len(values) != 0 || p.Err() != nil {
		t.Fatalf("%q %v", values, p.Err())
	}
	if v.Mode != "${file:/etc/hostname}" || v.Token != "${env:HOME}" || v.Labels["a"] != "${x}" {
		t.Fatalf("%+v", v)
	}
}

// Scrub takes every value a reference put in out of the messages.
func TestProblemsScrub(t *testing.T) {
	p := NewProblems("spec")
	p.AddAt("mode", "must be binary, not %q", "abc-secret-value")
	p.AddAt("url", "no %s here", "abc")
	p.Scrub([]string{"abc", "abc-secret-value"})
	msg := p.Err().Error()
	if strings.Contains(msg, "abc") || !strings.Contains(msg, `not "***"`) {
		t.Fatalf("%s", msg)
	}
	if !IsReference("${secret:x}") || IsReference("Bearer ${secret:x}") || IsReference("$${env:X}") {
		t.Fatal("IsReference")
	}
}
