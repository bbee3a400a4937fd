package event

import (
	"strings"
	"testing"
)

func TestCheckMediaType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json":              true,
		"text/plain; charset=utf-8":     true,
		"application/vnd.foo+json; v=1": true,
		"application":                   false,
		"text":                          false,
		"text/":                         false,
		"/plain":                        false,
		"a/b/c":                         false,
		"text/plain; charset":           false,
		"":                              false,
		" text/plain":                   false,
		"text/plain\t":                  false,
	} {
		if err := checkMediaType(ct); (err == nil) != ok {
			t.Errorf("checkMediaType(%q) = %v, want ok=%v", ct, err, ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	for v, ok := range map[string]bool{
		"2018-04-05T17:31:00Z":           true,
		"2018-04-26T14:48:09.1234+02:00": true,
		"0000-01-01T00:00:00Z":           true,
		"0000-01-01T00:00:00+01:00":      false, // year -1 in UTC
		"9999-12-31T23:59:59-01:00":      false, // year 10000 in UTC
		"2018-04-05":                     false,
		"yesterday":                      false,
	} {
		if _, err := parseTime(v); (err == nil) != ok {
			t.Errorf("parseTime(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

// TestValidationErrorMessageBounded: the message names the first fields
// and counts the rest, however many there are.
func TestValidationErrorMessageBounded(t *testing.T) {
	var ve ValidationError
	for i := 0; i < 100000; i++ {
		ve.Add("["+itoa(i)+"].id", "missing: a CloudEvent needs a non-empty id")
	}
	msg := ve.Err().Error()
	if len(msg) > 4096 {
		t.Fatalf("message of %d bytes", len(msg))
	}
	if !strings.HasSuffix(msg, "and 99980 more") {
		t.Errorf("message ends %q", msg[len(msg)-40:])
	}
}
