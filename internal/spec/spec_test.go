package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"1.5s": 1500 * time.Millisecond, "5m": 5 * time.Minute, "2": 2 * time.Second, "100ms": 100 * time.Millisecond} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.D() != want {
			t.Errorf("%q -> %v, %v", in, d.D(), err)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte(`"soon"`)); err == nil || !strings.Contains(err.Error(), "30s") {
		t.Errorf("bad duration: %v", err)
	}
	if err := d.UnmarshalJSON([]byte(`3`)); err != nil || d.D() != 3*time.Second {
		t.Errorf("number: %v %v", d.D(), err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1MiB": 1 << 20, "64KiB": 64 << 10, "2GB": 2e9, "512": 512, "1.5KiB": 1536} {
		var s ByteSize
		if err := s.UnmarshalText([]byte(in)); err != nil || s != want {
			t.Errorf("%q -> %d, %v", in, s, err)
		}
	}
	for _, bad := range []string{"lots", "5 parsecs", "-1"} {
		var s ByteSize
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if b, _ := ByteSize(1 << 20).MarshalText(); string(b) != "1MiB" {
		t.Errorf("marshal: %s", b)
	}
}

func TestExpand(t *testing.T) {
	t.Setenv("EB_SPEC_TEST", "v1")
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("s3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type inner struct {
		S Secret            `json:"s"`
		M map[string]Secret `json:"m"`
	}
	v := struct {
		A string   `json:"a"`
		L []string `json:"l"`
		I *inner   `json:"i"`
		N int      `json:"n"`
	}{A: "x-${env:EB_SPEC_TEST}-$${literal}", L: []string{"${file:" + f + "}"}, I: &inner{S: "${env:EB_SPEC_TEST}", M: map[string]Secret{"k": "${env:EB_SPEC_TEST}"}}}
	p := NewProblems("")
	Expand(&v, p, Refs{EnvFile: true})
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if v.A != "x-v1-${literal}" || v.L[0] != "s3" || v.I.S != "v1" || v.I.M["k"] != "v1" {
		t.Fatalf("expanded: %+v %+v", v, v.I)
	}
	Redact(&v)
	if v.I.S != Redacted || v.I.M["k"] != Redacted || v.A == Redacted {
		t.Fatalf("redacted: %+v %+v", v, v.I)
	}
	w := struct {
		A string `json:"a"`
	}{A: "${env:EB_SPEC_SURELY_UNSET}"}
	p = NewProblems("top")
	Expand(&w, p, Refs{EnvFile: true})
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "top.a: environment variable EB_SPEC_SURELY_UNSET is not set") {
		t.Fatalf("unset: %v", err)
	}
	if Secret("x").String() != Redacted {
		t.Fatal("Secret.String shows the value")
	}
}

func TestProblemsPaths(t *testing.T) {
	p := NewProblems("rules")
	p.At("r1").At("targets").Index(2).Add("no target %q", "x")
	p.AddAt("r2.delivery", "bad")
	list := p.List()
	if len(list) != 2 || list[0].Path != "rules.r1.targets[2]" || list[1].Path != "rules.r2.delivery" {
		t.Fatalf("%+v", list)
	}
}
