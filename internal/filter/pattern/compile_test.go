package pattern

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestCompileTooLarge(t *testing.T) {
	long := `{"a": ["` + strings.Repeat("x", MaxPatternLength) + `"]}`
	_, err := Compile([]byte(long))
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Compile(long) = %v; want ErrTooLarge", err)
	}
	// Characters, not bytes, count.
	wide := `{"a": ["` + strings.Repeat("é", MaxPatternLength-20) + `"]}`
	if _, err := Compile([]byte(wide)); err != nil {
		t.Fatalf("Compile(wide) = %v", err)
	}
}

func TestCompileTooComplex(t *testing.T) {
	or := `{"$or": [{"a": [1]}, {"b": [1]}, {"c": [1]}, {"d": [1]}]}`
	src := `{"p": ` + or + `, "q": ` + or + `, "r": ` + or + `, "s": ` + or + `, "t": ` + or + `, "u": ` + or + `}`
	_, err := Compile([]byte(src))
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Compile = %v; want ErrTooComplex", err)
	}
	// 4^5 = 1024 alternatives is the limit itself.
	src = `{"p": ` + or + `, "q": ` + or + `, "r": ` + or + `, "s": ` + or + `, "t": ` + or + `}`
	p, err := Compile([]byte(src))
	if err != nil || len(p.branches) != MaxBranches {
		t.Fatalf("Compile = %v, %d branches", err, len(p.branches))
	}
}

func TestErrorStrings(t *testing.T) {
	_, err := Compile([]byte(`{"a": 1, "b": {"c": []}}`))
	want := "a: must be an object or an array, not a number; b.c: empty arrays are not allowed"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v; want %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != "a" {
		t.Fatalf("errors.As: %v", e)
	}
	if (&Error{Reason: "whole"}).Error() != "whole" {
		t.Fatal("an error without a path should print its reason alone")
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustCompile did not panic")
		}
	}()
	MustCompile(`{"a": 1}`)
}

// TestFoldKeyCoversRelation checks, for every character, that the index key
// of a pattern character equals the key of each character it matches, so the
// equals-ignore-case index never misses a match.
func TestFoldKeyCoversRelation(t *testing.T) {
	// Only characters in unicode.CaseRanges have another case; for the rest
	// the relation is equality and holds trivially.
	var runes []rune
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			runes = append(runes, r)
		}
	}
	if len(runes) < 2000 {
		t.Fatalf("only %d cased characters", len(runes))
	}
	for _, r := range runes {
		k := foldKey(r)
		for _, e := range []rune{unicode.ToLower(r), unicode.ToUpper(r)} {
			if foldKey(e) != k {
				t.Fatalf("foldKey(%U) = %U but it matches %U with key %U", r, k, e, foldKey(e))
			}
		}
	}
}

func TestDecimalMicro(t *testing.T) {
	for _, tc := range []struct {
		lit    string
		want   int64
		reason string
	}{
		{"0", 0, ""},
		{"-0.0", 0, ""},
		{"1", 1_000_000, ""},
		{"3.018e2", 301_800_000, ""},
		{"-4e-6", -4, ""},
		{"0.000001", 1, ""},
		{"1.0000000000000000000000000000", 1_000_000, ""},
		{"5e9", 5_000_000_000_000_000, ""},
		{"-5000000000", -5_000_000_000_000_000, ""},
		{"100e-2", 1_000_000, ""},
		{"0e999999999999", 0, ""},
		{"0.0000001", 0, "decimals"},
		{"1e-999999999", 0, "decimals"},
		{"5000000000.000001", 0, "between"},
		{"1e999999999", 0, "between"},
		{"123456789012", 0, "between"},
		{"12345678901.1234567", 0, "decimals"},
	} {
		got, reason := decimalMicro([]byte(tc.lit))
		if got != tc.want || (reason == "") != (tc.reason == "") || !strings.Contains(reason, tc.reason) {
			t.Errorf("decimalMicro(%s) = %d, %q; want %d, %q", tc.lit, got, reason, tc.want, tc.reason)
		}
	}
}
