package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

func lexerTokens(d string) token.Tokens { return lexer.Tokenize(d) }

// blockRules is a config whose rules are block mappings over several
// lines, with comments, quoted keys, literals and sections after them.
func blockRules(n int) string {
	var sb strings.Builder
	sb.WriteString("# head\nsources:\n  in: {type: http, path: /events}\nrules:\n")
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&sb, "  r%04d:\n    description: |\n      line one\n      line two\n    targets:\n      - out\n    filter:\n      pattern: {\"type\": [{\"prefix\": \"svc%d.\"}]}\n", i, i)
		case 1:
			fmt.Fprintf(&sb, "  # a comment\n  \"q%04d\": {targets: [out],\n    filter: {pattern: {\"data\": {\"n\": [{\"numeric\": [\">\", %d]}]}}}}\n", i, i)
		default:
			fmt.Fprintf(&sb, "  'p%04d':\n    targets: [out]   # trailing\n    delivery: {max_attempts: 3}\n", i)
		}
	}
	sb.WriteString("targets:\n  out: {type: http, url: \"http://127.0.0.1:9/\"}\nlog: {level: info}\n")
	return sb.String()
}

// TestParseSplitSameAST: parseYAML's chunked parse gives the AST that
// parser.ParseBytes gives (the same text, values, lines and paths), and
// leaves what it cannot split to it.
func TestParseSplitSameAST(t *testing.T) {
	docs := []string{string(manyRules(600)), blockRules(600), blockRules(3)}
	// Small chunks and threshold, so that the examples of the docs and of
	// the tests take the chunked path too.
	defer func(m, c int) { splitMin, splitChunk = m, c }(splitMin, splitChunk)
	files, _ := filepath.Glob("../../docs/*.md")
	more, _ := filepath.Glob("../../docs/*/*.md")
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range yamlBlock.FindAllStringSubmatch(string(b), -1) {
			docs = append(docs, m[1])
		}
	}
	docs = append(docs,
		"rules:\n  a: {targets: [x]}\n  a: {targets: [y]}\n",               // duplicate: ParseBytes's error
		"rules:\n  a: &x {targets: [x]}\n  b: *x\n",                        // alias
		"rules:\n  a: {targets: [x]}\n b: {targets: [y]}\n",                // bad indentation
		"rules:\n  a: {targets: [x]\n  b: {targets: [y]}\n",                // unclosed
		"rules:\n  - a\n  - b\n",                                           // a sequence
		"rules: {a: {targets: [x]}, b: {targets: [y]}}\n",                  // flow
		"rules:\n  a: {targets: [x]}\n  b:\n    targets: [y]\n---\nx: 1\n", // two documents
	)
	split := 0
	for _, size := range [][2]int{{2, 1}, {2, 2}, {3, 5}, {512, 128}} {
		splitMin, splitChunk = size[0], size[1]
		for _, d := range docs {
			want, werr := parser.ParseBytes([]byte(d), 0)
			tokensTried := false
			if werr == nil {
				_, tokensTried = splitInfo(d)
			}
			got, gerr := parseYAML([]byte(d))
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("%q: error %v, want %v", d, gerr, werr)
			}
			if werr != nil {
				continue
			}
			if tokensTried {
				split++
			}
			if g, w := got.String(), want.String(); g != w {
				t.Fatalf("chunks %v: %q:\n got %s\nwant %s", size, d, g, w)
			}
			var gv, wv any
			gerr, werr = yaml.NodeToValue(docBody(got), &gv), yaml.NodeToValue(docBody(want), &wv)
			gj, _ := json.Marshal(jsonable(gv))
			wj, _ := json.Marshal(jsonable(wv))
			if string(gj) != string(wj) || (gerr == nil) != (werr == nil) {
				t.Fatalf("%q: values\n got %s %v\nwant %s %v", d, gj, gerr, wj, werr)
			}
			if g, w := positions(got), positions(want); g != w {
				t.Fatalf("%q: positions\n got %s\nwant %s", d, g, w)
			}
		}
	}
	if split < 3 {
		t.Errorf("only %d documents took the chunked path", split)
	}
}

// splitInfo tells whether parseYAML splits d.
func splitInfo(d string) (*ast.File, bool) {
	f, err := parser.ParseBytes([]byte(d), 0)
	if err != nil {
		return nil, false
	}
	tokens := lexerTokens(d)
	sf, tried := parseSplit(tokens)
	return f, tried && sf != nil
}

// positions lists every node's path, line and column.
func positions(f *ast.File) string {
	var sb strings.Builder
	for _, d := range f.Docs {
		ast.Walk(visitor(func(n ast.Node) {
			tk := n.GetToken()
			if tk == nil || tk.Position == nil {
				fmt.Fprintf(&sb, "%s;", n.GetPath())
				return
			}
			fmt.Fprintf(&sb, "%s@%d:%d;", n.GetPath(), tk.Position.Line, tk.Position.Column)
		}), d)
	}
	return sb.String()
}

type visitor func(ast.Node)

func (v visitor) Visit(n ast.Node) ast.Visitor { v(n); return v }

// TestParseSplitRules: a config of many rules takes the chunked parse and
// reads the same as with ParseBytes, problems and their lines included.
func TestParseSplitRules(t *testing.T) {
	text := blockRules(900)
	if _, split := splitInfo(text); !split {
		t.Fatal("900 rules not parsed in chunks")
	}
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(String(err))
	}
	if len(c.Rules) != 900 || c.Rules["q0001"] == nil || c.Rules["p0899"] == nil || c.Rules["r0897"].Description != "line one\nline two\n" {
		t.Fatalf("%d rules", len(c.Rules))
	}
	// A bad field deep in the section keeps its line and path.
	bad := strings.Replace(text, "  'p0899':\n    targets: [out]   # trailing\n", "  'p0899':\n    targets: [nowhere]\n", 1)
	line := strings.Count(bad[:strings.Index(bad, "[nowhere]")], "\n") + 1
	_, err = Parse([]byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	if s := String(err); !strings.Contains(s, fmt.Sprintf("line %d: rules.p0899.targets[0]", line)) {
		t.Errorf("problem %q, want line %d and rules.p0899.targets[0]", s, line)
	}
}
