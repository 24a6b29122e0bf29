package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// mustLoad loads the embedded templates or stops the test.
func mustLoad(t testing.TB) *Set {
	t.Helper()
	s, err := Load("")
	if err != nil {
		t.Fatalf("Load(\"\"): %v", err)
	}
	return s
}

// adfOf is r's ADF form; it fails the test when there is none.
func adfOf(t testing.TB, r Rendered) json.RawMessage {
	t.Helper()
	adf, err := r.ADF()
	if err != nil {
		t.Fatalf("ADF: %v", err)
	}
	return adf
}

// prettyADF indents an ADF document for golden files and diffs.
func prettyADF(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		t.Fatalf("ADF is not valid JSON: %v\n%s", err, raw)
	}
	b.WriteByte('\n')
	return b.String()
}

// checkADF fails the test when raw is not a valid ADF document of the kinds of
// nodes this package produces.
func checkADF(t testing.TB, raw json.RawMessage) {
	t.Helper()
	if err := validateADF(raw); err != nil {
		t.Errorf("invalid ADF: %v\n%s", err, raw)
	}
}

// validateADF checks raw against the parts of the ADF schema this package uses:
// doc (version 1) > paragraph | heading | orderedList | bulletList; listItem >
// paragraph; inline text (non-empty, marks strong/em, no empty marks list) and
// hardBreak. Unknown keys and node types are errors.
func validateADF(raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the document")
	}
	if err := keys(doc, "type", "version", "content"); err != nil {
		return fmt.Errorf("doc: %w", err)
	}
	if doc["type"] != "doc" {
		return fmt.Errorf("top-level type is %v, want doc", doc["type"])
	}
	if v, ok := doc["version"].(json.Number); !ok || v.String() != "1" {
		return fmt.Errorf("version is %v, want 1", doc["version"])
	}
	blocks, ok := doc["content"].([]any)
	if !ok {
		return fmt.Errorf("doc content is not an array")
	}
	if len(blocks) == 0 {
		return fmt.Errorf("doc has no content")
	}
	for i, b := range blocks {
		if err := validateBlock(b); err != nil {
			return fmt.Errorf("doc.content[%d]: %w", i, err)
		}
	}
	return nil
}

func validateBlock(v any) error {
	n, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("node is not an object")
	}
	switch n["type"] {
	case "paragraph":
		if err := keys(n, "type", "content"); err != nil {
			return err
		}
		return validateInlines(n["content"])
	case "heading":
		if err := keys(n, "type", "attrs", "content"); err != nil {
			return err
		}
		attrs, ok := n["attrs"].(map[string]any)
		if !ok {
			return fmt.Errorf("heading without attrs")
		}
		if err := keys(attrs, "level"); err != nil {
			return fmt.Errorf("heading attrs: %w", err)
		}
		switch l, _ := attrs["level"].(json.Number); l.String() {
		case "1", "2", "3", "4", "5", "6":
		default:
			return fmt.Errorf("heading level %v", attrs["level"])
		}
		return validateInlines(n["content"])
	case "orderedList", "bulletList":
		if err := keys(n, "type", "content"); err != nil {
			return err
		}
		items, ok := n["content"].([]any)
		if !ok || len(items) == 0 {
			return fmt.Errorf("%s without items", n["type"])
		}
		for i, it := range items {
			item, ok := it.(map[string]any)
			if !ok || item["type"] != "listItem" {
				return fmt.Errorf("item %d is not a listItem", i)
			}
			if err := keys(item, "type", "content"); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
			paras, ok := item["content"].([]any)
			if !ok || len(paras) == 0 {
				return fmt.Errorf("item %d has no content", i)
			}
			for j, p := range paras {
				pm, ok := p.(map[string]any)
				if !ok || pm["type"] != "paragraph" {
					return fmt.Errorf("item %d content %d is not a paragraph", i, j)
				}
				if err := validateBlock(p); err != nil {
					return fmt.Errorf("item %d: %w", i, err)
				}
			}
		}
		return nil
	}
	return fmt.Errorf("unexpected block node type %v", n["type"])
}

func validateInlines(v any) error {
	if v == nil {
		return nil // an empty paragraph or heading may omit content
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("content is not an array")
	}
	for i, x := range list {
		n, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("inline %d is not an object", i)
		}
		switch n["type"] {
		case "hardBreak":
			if err := keys(n, "type"); err != nil {
				return fmt.Errorf("inline %d: %w", i, err)
			}
		case "text":
			if err := keys(n, "type", "text", "marks"); err != nil {
				return fmt.Errorf("inline %d: %w", i, err)
			}
			text, ok := n["text"].(string)
			if !ok || text == "" {
				return fmt.Errorf("inline %d: empty text node", i)
			}
			if m, has := n["marks"]; has {
				marks, ok := m.([]any)
				if !ok || len(marks) == 0 {
					return fmt.Errorf("inline %d: marks must be a non-empty array", i)
				}
				seen := map[any]bool{}
				for _, mk := range marks {
					mm, ok := mk.(map[string]any)
					if !ok || (mm["type"] != "strong" && mm["type"] != "em") || len(mm) != 1 {
						return fmt.Errorf("inline %d: unexpected mark %v", i, mk)
					}
					if seen[mm["type"]] {
						return fmt.Errorf("inline %d: mark %v twice", i, mm["type"])
					}
					seen[mm["type"]] = true
				}
			}
		default:
			return fmt.Errorf("inline %d: unexpected node type %v", i, n["type"])
		}
	}
	return nil
}

// keys reports a key of n that is not allowed, and a missing "type".
func keys(n map[string]any, allowed ...string) error {
	for k := range n {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("unexpected key %q", k)
		}
	}
	if _, ok := n["type"]; !ok && allowed[0] == "type" {
		return fmt.Errorf("node without type")
	}
	return nil
}

// adfText concatenates the text of every text node, one block per line, so tests
// can look for what the reader sees.
func adfText(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var doc struct {
		Content []json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("ADF: %v", err)
	}
	var b strings.Builder
	var walk func(json.RawMessage)
	walk = func(r json.RawMessage) {
		var n struct {
			Type    string            `json:"type"`
			Text    string            `json:"text"`
			Content []json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(r, &n); err != nil {
			t.Fatalf("ADF node: %v", err)
		}
		b.WriteString(n.Text)
		if n.Type == "hardBreak" {
			b.WriteByte('\n')
		}
		for _, c := range n.Content {
			walk(c)
		}
		if n.Type == "paragraph" || n.Type == "heading" {
			b.WriteByte('\n')
		}
	}
	for _, c := range doc.Content {
		walk(c)
	}
	return b.String()
}

// skeleton is the structure of an ADF document with the text left out: node
// types, heading levels and marks, in document order.
func skeleton(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("ADF: %v", err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(x any) {
		n, ok := x.(map[string]any)
		if !ok {
			return
		}
		fmt.Fprintf(&b, "(%v", n["type"])
		if a, ok := n["attrs"]; ok {
			fmt.Fprintf(&b, " %v", a)
		}
		if m, ok := n["marks"]; ok {
			fmt.Fprintf(&b, " %v", m)
		}
		if c, ok := n["content"].([]any); ok {
			for _, ch := range c {
				walk(ch)
			}
		}
		b.WriteString(")")
	}
	walk(v)
	return b.String()
}
