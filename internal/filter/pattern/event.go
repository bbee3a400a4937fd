package pattern

import (
	"encoding/json"
	"strconv"
)

// arrayPos says that a leaf lies inside element index of the array numbered
// id (numbered in the order arrays are met in the event).
type arrayPos struct {
	id, index int32
}

// leafValue converts an event member to a leaf value. Only what
// encoding/json produces is expected; a few other scalar Go types are
// accepted for convenience, and anything else is not a value.
func leafValue(x any) (value, bool) {
	switch t := x.(type) {
	case string:
		return value{kind: vString, s: t}, true
	case float64:
		return value{kind: vNumber, n: t}, true
	case bool:
		return value{kind: vBool, b: t}, true
	case nil:
		return value{kind: vNull}, true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return value{}, false
		}
		return value{kind: vNumber, n: f}, true
	case int:
		return value{kind: vNumber, n: float64(t)}, true
	case int64:
		return value{kind: vNumber, n: float64(t)}, true
	case int32:
		return value{kind: vNumber, n: float64(t)}, true
	case uint:
		return value{kind: vNumber, n: float64(t)}, true
	case uint64:
		return value{kind: vNumber, n: float64(t)}, true
	case uint32:
		return value{kind: vNumber, n: float64(t)}, true
	case float32:
		return value{kind: vNumber, n: float64(t)}, true
	}
	return value{}, false
}

// consistent reports whether a leaf with array positions pos can be chosen
// together with leaves whose positions are already in set: they must not
// lie in different elements of the same array.
func consistent(set, pos []arrayPos) bool {
	for _, p := range pos {
		for _, q := range set {
			if p.id == q.id && p.index != q.index {
				return false
			}
		}
	}
	return true
}
