package config

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// splitMin is the least number of entries a top-level section needs to be
// parsed in chunks (parseYAML); splitChunk is the entries per chunk.
var (
	splitMin   = 512
	splitChunk = 128
)

// parseYAML is parser.ParseBytes(data, 0) without the cost that goccy's
// parser has in the entries of a block mapping: it parses each entry by
// recursion and, at each level, copies the entries that follow, so that
// 10,000 rules cost 50 million pointer copies (400 MB, with the
// collector's write barriers on top) and a 10,000-deep stack. A top-level
// section that is a block mapping of many entries ("rules:", one entry a
// line or more) is parsed in chunks of its entries, each after the
// section's own key, and the entries are put together under that key: the
// same tokens, so the same nodes, positions and paths as ParseBytes
// gives. Anything out of the ordinary (anchors, aliases, tags, merge keys,
// directives, several documents, complex keys, duplicate keys, a section
// that is not a plain block mapping) is left to ParseBytes, as is any
// error, so that errors read the same.
func parseYAML(data []byte) (*ast.File, error) {
	tokens := lexer.Tokenize(string(data))
	if tokens.InvalidToken() == nil {
		if f, tried := parseSplit(tokens); f != nil {
			return f, nil
		} else if !tried {
			return parser.Parse(tokens, 0)
		}
	}
	// The parser may have linked inserted tokens into these: start over.
	return parser.ParseBytes(data, 0)
}

// parseSplit parses tokens with their largest top-level section in chunks.
// tried is false if it did not try (nothing to gain, or something out of
// the ordinary): tokens are untouched.
func parseSplit(all token.Tokens) (f *ast.File, tried bool) {
	toks := make([]*token.Token, 0, len(all))
	for _, tk := range all {
		switch tk.Type {
		case token.CommentType:
			continue // the parser drops them (no ParseComments)
		case token.AnchorType, token.AliasType, token.TagType, token.MergeKeyType, token.MappingKeyType,
			token.DirectiveType, token.DocumentHeaderType, token.DocumentEndType, token.InvalidType:
			return nil, false
		}
		toks = append(toks, tk)
	}
	if len(toks) < 2 || toks[0].Position.Column != 1 {
		return nil, false
	}
	// The top-level keys: column 1, outside flow collections, before ':'.
	type section struct{ key, start, end int }
	var best section
	var cur *section
	depth := 0
	for i, tk := range toks {
		if depth == 0 && tk.Position.Column == 1 {
			if i+1 >= len(toks) || toks[i+1].Type != token.MappingValueType || !isPlainKey(tk) {
				return nil, false
			}
			if cur != nil {
				cur.end = i
				if cur.end-cur.start > best.end-best.start {
					best = *cur
				}
			}
			cur = &section{key: i, start: i + 2}
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			depth++
		case token.SequenceEndType, token.MappingEndType:
			depth--
		}
	}
	if cur == nil || depth != 0 {
		return nil, false
	}
	cur.end = len(toks)
	if cur.end-cur.start > best.end-best.start {
		best = *cur
	}
	if best.start >= best.end || toks[best.start].Position.Line == toks[best.key].Position.Line {
		return nil, false // empty, or a flow mapping or a scalar on the key's line
	}
	// Its entries: keys at one column, outside flow collections.
	col := toks[best.start].Position.Column
	var starts []int
	seen := map[string]bool{}
	depth = 0
	for i := best.start; i < best.end; i++ {
		tk := toks[i]
		if t := toks[i-1].Type; t == token.LiteralType || t == token.FoldedType {
			continue // a block scalar's text: column 0
		}
		if tk.Position.Column < col {
			return nil, false
		}
		if depth == 0 && tk.Position.Column == col {
			if i+1 >= best.end || toks[i+1].Type != token.MappingValueType || !isPlainKey(tk) || seen[tk.Value] {
				return nil, false
			}
			seen[tk.Value] = true
			starts = append(starts, i)
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			depth++
		case token.SequenceEndType, token.MappingEndType:
			depth--
		}
	}
	if len(starts) < splitMin {
		return nil, false
	}
	// The file without the section's entries, then the entries in chunks.
	outer := append(append(make([]*token.Token, 0, best.start+len(toks)-best.end), toks[:best.start]...), toks[best.end:]...)
	f, err := parser.Parse(outer, 0)
	if err != nil {
		return nil, true
	}
	holder := topEntry(f, toks[best.key].Value)
	if holder == nil {
		return nil, true
	}
	var merged *ast.MappingNode
	values := make([]*ast.MappingValueNode, 0, len(starts))
	for c := 0; c < len(starts); c += splitChunk {
		end := best.end
		if c+splitChunk < len(starts) {
			end = starts[c+splitChunk]
		}
		chunk := append([]*token.Token{toks[best.key], toks[best.key+1]}, toks[starts[c]:end]...)
		cf, err := parser.Parse(chunk, 0)
		if err != nil {
			return nil, true
		}
		e := topEntry(cf, toks[best.key].Value)
		if e == nil {
			return nil, true
		}
		m, ok := e.Value.(*ast.MappingNode)
		if !ok || m.IsFlowStyle {
			return nil, true
		}
		if merged == nil {
			merged = m
		}
		values = append(values, m.Values...)
	}
	if len(values) != len(starts) {
		return nil, true
	}
	merged.Values = values
	holder.Value = merged
	return f, true
}

// isPlainKey: a mapping key the parser reads as a plain string.
func isPlainKey(tk *token.Token) bool {
	switch tk.Type {
	case token.StringType, token.SingleQuoteType, token.DoubleQuoteType:
		return true
	}
	return false
}

// topEntry is the entry key of f's top-level mapping.
func topEntry(f *ast.File, key string) *ast.MappingValueNode {
	if len(f.Docs) != 1 {
		return nil
	}
	var vals []*ast.MappingValueNode
	switch n := f.Docs[0].Body.(type) {
	case *ast.MappingNode:
		vals = n.Values
	case *ast.MappingValueNode:
		vals = []*ast.MappingValueNode{n}
	}
	for _, v := range vals {
		if k, ok := v.Key.(*ast.StringNode); ok && k.Value == key {
			return v
		}
	}
	return nil
}
