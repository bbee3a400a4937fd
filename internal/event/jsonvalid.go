package event

// validJSON reports whether data is one JSON value (RFC 8259), with
// whitespace around it: what encoding/json's Valid answers, about ten
// times faster. It runs on the data of every binary-mode event of a JSON
// content type. Like Valid, it does not check that strings are UTF-8
// (SetBinaryData does), and it refuses values nested deeper than 10,000
// (encoding/json's limit). FuzzValidJSON holds it to Valid's answers.
func validJSON(data []byte) bool {
	// stack holds '{' or '[' for each open container; the first levels
	// stay on the caller's stack.
	var buf [32]byte
	stack := buf[:0]
	i := skipSpace(data, 0)
	for {
		// A value is expected at i.
		if i >= len(data) {
			return false
		}
		switch c := data[i]; {
		case c == '{':
			if len(stack) == maxJSONDepth {
				return false
			}
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == '}' {
				i++
				break // an empty object: a complete value
			}
			stack = append(stack, '{')
			// A key, then ':', then the value.
			var ok bool
			if i, ok = objectKey(data, i); !ok {
				return false
			}
			continue
		case c == '[':
			if len(stack) == maxJSONDepth {
				return false
			}
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == ']' {
				i++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			var ok bool
			if i, ok = scanString(data, i); !ok {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			var ok bool
			if i, ok = scanNumber(data, i); !ok {
				return false
			}
		case c == 't':
			if !hasLiteral(data, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !hasLiteral(data, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !hasLiteral(data, i, "null") {
				return false
			}
			i += 4
		default:
			return false
		}
		// A value ended at i: close containers, or go on to the next
		// element.
		for {
			i = skipSpace(data, i)
			if len(stack) == 0 {
				return i == len(data)
			}
			if i >= len(data) {
				return false
			}
			top := stack[len(stack)-1]
			c := data[i]
			if c == ',' {
				i = skipSpace(data, i+1)
				if top == '{' {
					var ok bool
					if i, ok = objectKey(data, i); !ok {
						return false
					}
				}
				break // the next value
			}
			if top == '{' && c == '}' || top == '[' && c == ']' {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return false
		}
	}
}

// maxJSONDepth is encoding/json's limit on nesting.
const maxJSONDepth = 10000

// objectKey scans a member's key and its ':' at i, and returns where the
// value is to start (after the white space).
func objectKey(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	i, ok := scanString(data, i)
	if !ok {
		return i, false
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return i, false
	}
	return skipSpace(data, i+1), true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString scans the string that starts at i (a '"') and returns the
// index after it.
func scanString(data []byte, i int) (int, bool) {
	i++
	for i < len(data) {
		c := data[i]
		if plainStringByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(data) {
				return i, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(data) {
					return i, false
				}
				for _, h := range data[i+2 : i+6] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

// scanNumber scans the number that starts at i and returns the index
// after it.
func scanNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return i, false
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		i = digits(data, i+1)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

// plainStringByte says which bytes stand for themselves in a string: not
// '"', '\\' or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}
