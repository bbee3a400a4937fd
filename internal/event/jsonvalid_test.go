package event

import (
	"encoding/json"
	"strings"
	"testing"
)

var jsonValidCases = []string{
	``, ` `, `{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `{"a" : 1 , "b":[1,2,{"c":null}]}`, `[1,]`, `[,1]`, `{"a":1,}`,
	`{,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`, `"x"`, `"x`, `"\"\\\/\b\f\n\r\t\u00e9"`, `"\u00G0"`,
	`"\u00e"`, `"\x"`, "\"a\x01\"", "\"a\x7f\xff\"", `0`, `-0`, `01`, `-`, `-a`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`,
	`1e5.0`, `-12.5e+10`, `true`, `tru`, `truex`, `false`, `null`, `nul`, `nullnull`, `1 2`, `[1]]`, `[[1]`, `{"a":[}`,
	`{"a":{"b":{}}}`, `[true,false,null]`, "\t\n\r[1]\r\n", "\v1", `"unterminated\`, `"\u12`, `[` + strings.Repeat(`"x",`, 10) + `1]`,
	`{"order":"o-12345","customer":"c-987","items":[{"sku":"sku-1","qty":2},{"sku":"sku-2","qty":1}],"total":42.5}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	strings.Repeat("[", 10000) + "{}" + strings.Repeat("]", 10000),
}

// TestValidJSON holds validJSON to encoding/json's Valid.
func TestValidJSON(t *testing.T) {
	for _, c := range jsonValidCases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

// FuzzValidJSON holds validJSON to encoding/json's Valid on any input.
func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonValidCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	data := []byte(`{"order":"o-12345","customer":"c-987","items":[{"sku":"sku-1","qty":2},{"sku":"sku-2","qty":1}],"total":42.5,"currency":"EUR","note":"` + strings.Repeat("x", 120) + `"}`)
	b.Run("validJSON", func(b *testing.B) {
		for range b.N {
			validJSON(data)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for range b.N {
			json.Valid(data)
		}
	})
}
