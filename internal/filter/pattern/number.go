package pattern

import (
	"math"
	"strconv"
)

// NumericLimit bounds numeric matching (the numeric operator, numbers in
// anything-but): it works on values from -NumericLimit to +NumericLimit
// inclusive with at most NumericDecimals digits after the decimal point, as
// the EventBridge documentation states ("-5.0e9 and +5.0e9 inclusive, with
// 15 digits of precision, or six digits to the right of the decimal point").
// Such values are held exactly, as integers counting millionths ("micros").
const NumericLimit = 5e9

// NumericDecimals is the most digits after the decimal point that numeric
// matching keeps (see NumericLimit).
const NumericDecimals = 6

const (
	microLimit = 5_000_000_000_000_000 // NumericLimit in micros
	microMin   = math.MinInt64
	microMax   = math.MaxInt64
)

// decimalMicro converts a JSON number literal exactly to micros. It returns a
// reason when the number has more than six decimals or is outside the
// numeric range (checked in that order, as Event Ruler does).
func decimalMicro(lit []byte) (int64, string) {
	i := 0
	neg := false
	if i < len(lit) && (lit[i] == '-' || lit[i] == '+') {
		neg = lit[i] == '-'
		i++
	}
	intStart := i
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(lit) && lit[i] == '.' {
		i++
		fracStart = i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	e := 0
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if i < len(lit) && (lit[i] == '-' || lit[i] == '+') {
			eneg = lit[i] == '-'
			i++
		}
		for ; i < len(lit); i++ {
			if e < 1_000_000 {
				e = e*10 + int(lit[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
	}
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	digit := func(k int) byte {
		if k < nInt {
			return lit[intStart+k]
		}
		return lit[fracStart+k-nInt]
	}
	// The value is digits[lo:hi] × 10^exp10, without leading or trailing zeros.
	exp10 := e - nFrac
	lo, hi := 0, nInt+nFrac
	for lo < hi && digit(lo) == '0' {
		lo++
	}
	for hi > lo && digit(hi-1) == '0' {
		hi--
		exp10++
	}
	nd := hi - lo
	if nd == 0 {
		return 0, ""
	}
	if -exp10 > NumericDecimals {
		return 0, "only values with up to 6 decimals are supported"
	}
	if nd+exp10+NumericDecimals > 16 {
		return 0, "value must be between -5e9 and 5e9"
	}
	var m int64
	for k := lo; k < hi; k++ {
		m = m*10 + int64(digit(k)-'0')
	}
	for k := 0; k < exp10+NumericDecimals; k++ {
		m *= 10
	}
	if m > microLimit {
		return 0, "value must be between -5e9 and 5e9"
	}
	if neg {
		m = -m
	}
	return m, ""
}

// floatMicro converts an event number to micros, reporting false when it is
// outside the numeric range or has more than six decimals. The decimal form
// used is the shortest one that reads back as f, which is the event's own
// text for any number written with at most 15 significant digits.
func floatMicro(f float64) (int64, bool) {
	if f != f || f > NumericLimit || f < -NumericLimit {
		return 0, false
	}
	if f == math.Trunc(f) {
		return int64(f) * 1_000_000, true
	}
	var buf [40]byte
	s := strconv.AppendFloat(buf[:0], f, 'f', -1, 64)
	m, reason := decimalMicro(s)
	return m, reason == ""
}

// numberKey is the hash key of a number: its bits, with -0 folded into 0.
func numberKey(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}
