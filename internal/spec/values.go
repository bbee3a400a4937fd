package spec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	pub "github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Duration is a time.Duration written as a duration string; it is public
// (pkg/spec) because connector configs built outside this module use it.
type Duration = pub.Duration

// ByteSize is a size in bytes written as a number or with a unit:
// "512", "64KiB", "1MiB", "2GB" (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// MarshalText implements encoding.TextMarshaler.
func (s ByteSize) MarshalText() ([]byte, error) {
	switch {
	case s != 0 && s%(1<<30) == 0:
		return []byte(fmt.Sprintf("%dGiB", s>>30)), nil
	case s != 0 && s%(1<<20) == 0:
		return []byte(fmt.Sprintf("%dMiB", s>>20)), nil
	case s != 0 && s%(1<<10) == 0:
		return []byte(fmt.Sprintf("%dKiB", s>>10)), nil
	}
	return []byte(strconv.FormatInt(int64(s), 10)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *ByteSize) UnmarshalText(b []byte) error {
	m := sizeRE.FindStringSubmatch(string(b))
	if m == nil {
		return fmt.Errorf("invalid size %q: use bytes or a unit, like 65536, 64KiB, 1MiB, 2GB", string(b))
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return fmt.Errorf("invalid size unit %q in %q: use B, KB, MB, GB, KiB, MiB or GiB", m[2], string(b))
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	*s = ByteSize(f * unit)
	return nil
}

// UnmarshalJSON accepts a number or a string.
func (s *ByteSize) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		return s.UnmarshalText([]byte(str))
	}
	return s.UnmarshalText(b)
}

// Name is the syntax of resource names (sources, targets, rules): they
// become NATS subject tokens and URL path segments.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$`)

// ValidName reports whether s is a legal resource name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// NameRule describes the name syntax for error messages.
const NameRule = "names are 1 to 63 letters, digits, '-' or '_', starting with a letter or digit"
