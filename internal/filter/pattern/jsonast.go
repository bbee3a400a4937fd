package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// A pattern is read into this small tree rather than map[string]any because
// EventBridge reads patterns as a token stream: member order matters (a later
// duplicate path replaces an earlier one) and duplicate keys are all seen.
type nodeKind uint8

const (
	nObject nodeKind = iota
	nArray
	nString
	nNumber
	nBool
	nNull
)

func (k nodeKind) String() string {
	return [...]string{"an object", "an array", "a string", "a number", "a boolean", "null"}[k]
}

type node struct {
	kind    nodeKind
	members []member // nObject, in document order, duplicates kept
	elems   []*node  // nArray
	str     string   // nString: the value; nNumber: the literal text
	b       bool     // nBool
}

type member struct {
	key string
	val *node
}

// parseJSON reads exactly one JSON value.
func parseJSON(raw []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(dec, err)
	}
	n, err := readValue(dec, tok)
	if err != nil {
		return nil, jsonError(dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the pattern at offset %d", dec.InputOffset())
	}
	return n, nil
}

func jsonError(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("invalid JSON at offset %d: %s", dec.InputOffset(), err.Error())
}

func readValue(dec *json.Decoder, tok json.Token) (*node, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: nObject}
			for {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				if kt == json.Delim('}') {
					return n, nil
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				vt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readValue(dec, vt)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key: key, val: v})
			}
		case '[':
			n := &node{kind: nArray}
			for {
				et, err := dec.Token()
				if err != nil {
					return nil, err
				}
				if et == json.Delim(']') {
					return n, nil
				}
				v, err := readValue(dec, et)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	case string:
		return &node{kind: nString, str: t}, nil
	case json.Number:
		return &node{kind: nNumber, str: string(t)}, nil
	case bool:
		return &node{kind: nBool, b: t}, nil
	case nil:
		return &node{kind: nNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
